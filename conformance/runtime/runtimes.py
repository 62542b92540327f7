"""The runtimes under test and a thin driver for their command line.

Everything the suite does to a runtime goes through `Runtime.call`, i.e. through
runc's command-line conventions (`RUNTIME --root R create --bundle B ID`, ...),
so the same checks run unchanged against porter-runtime, runc or any other
OCI runtime named in the RUNTIME environment variable.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CALL_TIMEOUT = 10.0
HUNG = -999
# After this many commands of one runtime hang, its remaining checks fail at once:
# a runtime that hangs must not stretch the run past its few minutes.
HANG_LIMIT = 3


@dataclass(frozen=True)
class Target:
    """One runtime binary to run the suite against; `skip_reason` when it cannot run."""

    name: str
    path: str
    skip_reason: str | None = None


def _porter_runtime() -> Target:
    """porter-runtime as installed next to the interpreter running the suite."""
    path = Path(sys.executable).parent / "porter-runtime"
    if not path.exists():
        return Target("porter-runtime", str(path), f"{path} is not installed")
    probe = subprocess.run(
        [str(path), "--version"], capture_output=True, text=True, timeout=CALL_TIMEOUT
    )
    said = (probe.stdout + probe.stderr).strip()
    if "not built yet" in said:
        return Target("porter-runtime", str(path), said)
    return Target("porter-runtime", str(path))


def _runc() -> Target:
    path = shutil.which("runc") or "/usr/sbin/runc"
    if not os.access(path, os.X_OK):
        return Target("runc", path, "runc is not installed")
    return Target("runc", path)


def discover_targets() -> list[Target]:
    """RUNTIME=/path[,/path...] selects runtimes; otherwise porter-runtime and runc."""
    chosen = os.environ.get("RUNTIME", "").strip()
    if not chosen:
        return [_porter_runtime(), _runc()]
    targets = []
    for entry in filter(None, (part.strip() for part in chosen.split(","))):
        path = shutil.which(entry) or entry
        reason = None if os.access(path, os.X_OK) else f"{path} is not executable"
        targets.append(Target(Path(path).name, path, reason))
    return targets


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


class RuntimeCallError(AssertionError):
    """A runtime command that was expected to succeed failed."""


@dataclass(frozen=True)
class Outcome:
    """What one runtime command did: exit status and both output streams."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    detail: str = ""  # what the suite saw besides the command's output (e.g. the init's fate)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        command = " ".join(self.argv)
        text = f"{command} -> {self.returncode}\nstdout: {self.stdout}\nstderr: {self.stderr}"
        return f"{text}\n{self.detail}" if self.detail else text

    def check(self) -> Outcome:
        if not self.ok:
            raise RuntimeCallError(self.describe())
        return self


class Runtime:
    """Drives one runtime binary with its own private --root state directory."""

    def __init__(self, target: Target, root: Path) -> None:
        self.target = target
        self.name = target.name
        self.root = root
        self.hangs = 0

    def call(
        self, *args: str, stdout=None, stderr=None, stdin=subprocess.DEVNULL, timeout=CALL_TIMEOUT
    ) -> Outcome:
        """Runs `RUNTIME --root ROOT args...`; a container it starts inherits `stdout`/`stderr`.

        Output goes through files, never pipes: a container started by the command
        inherits its stdio and would hold a pipe open long after the command exits.
        """
        argv = (self.target.path, "--root", str(self.root), *args)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            process = subprocess.Popen(
                argv,
                stdin=stdin,
                stdout=stdout or out,
                stderr=stderr or err,
                start_new_session=True,
            )
            try:
                returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                returncode = self._hung(process, timeout)
            out.seek(0)
            err.seek(0)
            said = _text(err.read())
            if stderr is not None:
                stderr.seek(0)
                said = _text(stderr.read())
            if returncode == HUNG:
                said += f"\n(killed: no answer within {timeout:.0f}s)"
            return Outcome(argv, returncode, _text(out.read()), said)

    def spawn(self, *args: str, stdout, stderr) -> subprocess.Popen:
        """Starts `RUNTIME --root ROOT args...` without waiting for it (a foreground `run`)."""
        argv = (self.target.path, "--root", str(self.root), *args)
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, start_new_session=True
        )

    def _hung(self, process: subprocess.Popen, timeout: float) -> int:
        """Kills a command that did not answer (its whole process group) and counts it."""
        self.hangs += 1
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return HUNG

    def create(
        self, container_id: str, bundle: Path, *extra: str, stdout=None, stderr=None
    ) -> Outcome:
        argv = ("create", "--bundle", str(bundle), *extra, container_id)
        return self.call(*argv, stdout=stdout, stderr=stderr)

    def start(self, container_id: str) -> Outcome:
        return self.call("start", container_id)

    def state(self, container_id: str) -> dict:
        return json.loads(self.call("state", container_id).check().stdout)

    def try_state(self, container_id: str) -> dict | None:
        outcome = self.call("state", container_id)
        return json.loads(outcome.stdout) if outcome.ok else None

    def kill(self, container_id: str, signal: str = "KILL") -> Outcome:
        return self.call("kill", container_id, signal)

    def delete(self, container_id: str, force: bool = False) -> Outcome:
        return self.call("delete", *(["--force"] if force else []), container_id)

    def wait_status(self, container_id: str, wanted: str, timeout: float = 10.0) -> dict:
        """Polls `state` until the container reaches `wanted` (bounded by `timeout`)."""
        deadline = time.monotonic() + timeout
        last: dict | None = None
        while time.monotonic() < deadline:
            last = self.try_state(container_id)
            if last is not None and last.get("status") == wanted:
                return last
            if last is not None and last.get("status") == "stopped":
                break  # stopped is final: no use waiting any longer
            time.sleep(0.02)
        raise AssertionError(f"{container_id} never reached {wanted!r}; last state {last}")

    def leftover_ids(self) -> list[str]:
        """Containers still known under our --root (from the state directory)."""
        if not self.root.is_dir():
            return []
        return sorted(entry.name for entry in self.root.iterdir() if entry.is_dir())
