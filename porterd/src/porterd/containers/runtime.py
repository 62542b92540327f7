"""The OCI runtime's command line (runc's conventions), the only way porterd drives it.

porter-runtime by default; runc and crun take the same arguments. Each runtime keeps its
state under its own `--root` in the exec root, so that two runtimes never share one.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from porterd.errors import DaemonError

TIMEOUT = 60


class RuntimeFailed(DaemonError):
    """The OCI runtime refused or failed a command; the message is its own last line."""


@dataclass(frozen=True)
class OciRuntime:
    name: str
    path: str
    root: Path

    def command(self, *args: str) -> list[str]:
        return [self.path, "--root", str(self.root), *args]

    def run(self, *args: str, input: bytes | None = None) -> str:
        try:
            result = subprocess.run(
                self.command(*args),
                input=input,
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RuntimeFailed(f"{self.name} {args[0]}: {error}") from error
        if result.returncode != 0:
            lines = result.stderr.decode(errors="replace").strip().splitlines() or ["failed"]
            raise RuntimeFailed(f"{self.name} {' '.join(args[:1])}: {lines[-1]}")
        return result.stdout.decode(errors="replace")

    def holds(self, container_id: str) -> bool:
        """Whether the runtime may still hold state of the container: runc, crun and
        porter-runtime each keep a container's state in a folder named for it under `--root`
        from its create to its delete. Asked before a `delete` that is only a cleanup, so that
        a container the runtime never had (or has deleted already) costs no runtime process."""
        return (self.root / container_id).exists()

    def start(self, container_id: str) -> None:
        self.run("start", container_id)

    def kill(self, container_id: str, signal: str, all_processes: bool = False) -> None:
        self.run("kill", *(["--all"] if all_processes else []), container_id, signal)

    def delete(self, container_id: str, force: bool = False) -> None:
        self.run("delete", *(["--force"] if force else []), container_id)

    def pause(self, container_id: str) -> None:
        self.run("pause", container_id)

    def resume(self, container_id: str) -> None:
        self.run("resume", container_id)

    def update(self, container_id: str, resources: dict[str, Any]) -> None:
        self.run("update", "--resources", "-", container_id, input=json.dumps(resources).encode())

    def pids(self, container_id: str) -> list[int]:
        return [int(pid) for pid in json.loads(self.run("ps", "--format", "json", container_id))]
