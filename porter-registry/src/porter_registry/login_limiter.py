"""Failed logins rate limited per client address and user name.

Each (address, user) pair may fail `attempts_per_minute` times in any sliding minute; the next
attempt, right or wrong, is refused with TOOMANYREQUESTS and a `Retry-After` saying when the
oldest failure leaves the window. The password is not even checked then, so a guessing client
also stops costing bcrypt time. A success clears the pair's failures. Memory is bounded: the
table forgets its least recently failed pairs past `max_clients`.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from porter_registry.errors import RegistryError

WINDOW_SECONDS = 60.0
MAX_CLIENTS = 10_000


class LoginLimiter:
    """A sliding-window counter of failed logins per (client address, user)."""

    def __init__(
        self,
        attempts_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        self.attempts = attempts_per_minute
        self.clock = clock
        self.max_clients = max_clients
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and now - failures[0] >= WINDOW_SECONDS:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def check(self, address: str, user: str) -> None:
        """Refuse with TOOMANYREQUESTS when this pair has used up its failures."""
        if self.attempts <= 0:
            return  # 0 in the config turns limiting off
        now = self.clock()
        with self._lock:
            failures = self._recent((address, user), now)
            if failures is None or len(failures) < self.attempts:
                return
            wait = max(1, math.ceil(WINDOW_SECONDS - (now - failures[0])))
        raise RegistryError(
            "TOOMANYREQUESTS",
            f"too many failed logins for {user!r}; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )

    def failed(self, address: str, user: str) -> None:
        key = (address, user)
        now = self.clock()
        with self._lock:
            failures = self._recent(key, now) or deque()
            failures.append(now)
            self._failures[key] = failures
            self._failures.move_to_end(key)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)

    def succeeded(self, address: str, user: str) -> None:
        with self._lock:
            self._failures.pop((address, user), None)
