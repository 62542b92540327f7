"""Users and passwords from an htpasswd file with bcrypt entries, as `htpasswd -B` writes them.

Only bcrypt (`$2y$`, `$2b$`, `$2a$`) is accepted, as CNCF distribution does: the other formats
htpasswd can write (MD5-apr1, SHA1, crypt, plain) are weak, and a file holding one is refused
at load with the line and user named rather than silently locking that user out.

Checking a bcrypt hash costs milliseconds by design, and Basic-auth clients send their
password with every request, so a successful check is remembered for a short while (keyed by
an HMAC of the password under a per-process random key, never the password itself). The file is
re-read when its modification time changes, so users can be added without a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path

import bcrypt

from porter_registry.config import ConfigError

BCRYPT_PREFIXES = ("$2y$", "$2b$", "$2a$")
# A valid hash no password matches, checked for unknown users so that timing does not tell
# which user names exist.
_DUMMY_HASH = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=5))
_CACHE_SIZE = 1024
_CACHE_SECONDS = 60.0
_STAT_INTERVAL = 1.0
_BCRYPT_MAX_BYTES = 72


class HtpasswdError(ConfigError):
    """The htpasswd file cannot be used; the message names the file, line and why."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"htpasswd {path}: {reason}")
        self.path = path


def parse_htpasswd(text: str, path: Path) -> dict[str, bytes]:
    """user -> bcrypt hash; blank lines and `#` comments are skipped, anything else refused."""
    users: dict[str, bytes] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not user or not hashed:
            raise HtpasswdError(path, f"line {number}: expected USER:HASH")
        if not hashed.startswith(BCRYPT_PREFIXES):
            raise HtpasswdError(
                path,
                f"line {number}: user {user!r} has a non-bcrypt hash; only bcrypt entries "
                "are accepted (create them with `htpasswd -B`)",
            )
        if user in users:
            raise HtpasswdError(path, f"line {number}: user {user!r} appears twice")
        users[user] = hashed.encode()
    return users


def _normalized(hashed: bytes) -> bytes:
    """Apache writes `$2y$`; the bcrypt package checks `$2b$`, the same algorithm."""
    return b"$2b$" + hashed[4:] if hashed.startswith(b"$2y$") else hashed


class Htpasswd:
    """The users of one htpasswd file, re-read when it changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._verified: OrderedDict[tuple[str, bytes], float] = OrderedDict()
        self._cache_key = secrets.token_bytes(32)
        self._mtime_ns = -1
        self._checked_at = 0.0
        self._users: dict[str, bytes] = {}
        self._reload()

    def _reload(self) -> None:
        try:
            stat = os.stat(self.path)
            text = self.path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise HtpasswdError(self.path, f"cannot read: {exc}") from exc
        users = parse_htpasswd(text, self.path)
        with self._lock:
            self._users = users
            self._mtime_ns = stat.st_mtime_ns
            self._verified.clear()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < _STAT_INTERVAL:
            return
        self._checked_at = now
        try:
            changed = os.stat(self.path).st_mtime_ns != self._mtime_ns
        except OSError:
            return  # keep serving the users we have; the next successful stat reloads
        if changed:
            try:
                self._reload()
            except HtpasswdError:
                return  # a half-written file: keep the previous users

    def users(self) -> list[str]:
        self._refresh()
        return sorted(self._users)

    def verify(self, user: str, password: str) -> bool:
        """True when `password` is `user`'s; constant work whether or not the user exists."""
        self._refresh()
        # bcrypt reads at most 72 bytes; htpasswd hashed only those, and the bcrypt package
        # refuses longer input rather than truncating as Apache does.
        secret = password.encode()[:_BCRYPT_MAX_BYTES]
        key = (user, hmac.new(self._cache_key, secret, hashlib.sha256).digest())
        now = time.monotonic()
        with self._lock:
            hashed = self._users.get(user)
            seen = self._verified.get(key)
            if hashed is not None and seen is not None and now - seen < _CACHE_SECONDS:
                return True
        if hashed is None:
            bcrypt.checkpw(secret, _DUMMY_HASH)
            return False
        if not bcrypt.checkpw(secret, _normalized(hashed)):
            return False
        with self._lock:
            self._verified[key] = now
            self._verified.move_to_end(key)
            while len(self._verified) > _CACHE_SIZE:
                self._verified.popitem(last=False)
        return True
