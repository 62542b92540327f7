"""Start a real `porter-registry serve` on a free loopback port, for tests and other suites.

    with running_registry(tmp_path / "data") as registry:
        requests.get(f"{registry.url}/v2/")

Also a command line, for suites that only take a URL:

    python porter-registry/tests/registry_process.py --data DIR [serve flags...]

prints the base URL on its first line and serves until killed.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PORTER_REGISTRY = Path(sys.executable).parent / "porter-registry"
_LISTENING = re.compile(r"listening on (\S+)")


class RegistryStartError(RuntimeError):
    """The registry exited or never said it was listening."""


@dataclass
class RegistryProcess:
    """A running registry: its base URL, data folder, log file and process."""

    url: str
    data: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing gets to clean up."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_registry(
    data: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
    listen: str = "127.0.0.1:0",
) -> RegistryProcess:
    """Start `porter-registry serve --listen 127.0.0.1:0 --data DATA ARGS` and wait until ready."""
    data.mkdir(parents=True, exist_ok=True)
    log = data.parent / f"registry-{uuid.uuid4().hex[:8]}.log"
    command = [str(PORTER_REGISTRY), "serve", "--listen", listen, "--data", str(data), *args]
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _LISTENING.search(log.read_text(errors="replace"))
        if match:
            return RegistryProcess(match.group(1), data, log, process)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    text = log.read_text(errors="replace")
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    process.wait(timeout=10)
    raise RegistryStartError(f"porter-registry did not start: {text.strip() or 'no output'}")


@contextlib.contextmanager
def running_registry(data: Path, *args: str, **kwargs: object) -> Iterator[RegistryProcess]:
    """A registry for the length of a `with` block, stopped (or killed) afterwards."""
    registry = start_registry(data, *args, **kwargs)  # type: ignore[arg-type]
    try:
        yield registry
    finally:
        registry.stop()


def main(argv: list[str]) -> None:
    if "--data" not in argv:
        sys.exit("usage: registry_process.py --data DIR [porter-registry serve flags]")
    index = argv.index("--data")
    data = Path(argv[index + 1])
    rest = argv[:index] + argv[index + 2 :]
    registry = start_registry(data, *rest)
    print(registry.url, flush=True)
    try:
        registry.process.wait()
    except KeyboardInterrupt:
        registry.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
