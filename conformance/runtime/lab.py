"""Per-test workbench: bundles, containers, and the guarantee that all of it goes away.

A `Lab` belongs to one test and one runtime.  Every container it creates is
force-deleted, reaped and has its cgroups removed when the test ends, passed
or failed; every bundle lives under the lab's own directory, removed last.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from conformance.runtime import hostfs
from conformance.runtime.bundle import Bundle, default_config, make_rootfs
from conformance.runtime.runtimes import Outcome, Runtime


def _end(process: subprocess.Popen) -> None:
    """Kills a runtime command we started and left running (its whole process group)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


class Container:
    """One container id in one bundle; its stdout goes to a file beside the bundle."""

    def __init__(self, lab: Lab, container_id: str, bundle: Bundle) -> None:
        self.lab = lab
        self.id = container_id
        self.bundle = bundle
        self.stdout_path = lab.workdir / f"{container_id}.stdout"
        self.stderr_path = lab.workdir / f"{container_id}.stderr"
        self.pid = 0

    @property
    def runtime(self) -> Runtime:
        return self.lab.runtime

    def create(self, *extra: str) -> Outcome:
        """`create`; the container's stdout is our file (the runtime passes it through)."""
        self.bundle.write()
        with self.stdout_path.open("ab") as stdout, self.stderr_path.open("w+b") as stderr:
            outcome = self.runtime.create(
                self.id, self.bundle.path, *extra, stdout=stdout, stderr=stderr
            )
        if outcome.ok:
            self.note_process()
        return outcome

    def start(self) -> Outcome:
        outcome = self.runtime.start(self.id)
        if not outcome.ok:
            detail = f"{hostfs.fate(self.pid)}; container stderr: {self.errors()!r}"
            return dataclasses.replace(outcome, detail=detail)
        return outcome

    def run_detached(self, *extra: str) -> Outcome:
        """`run -d`: create and start, returning while the process runs."""
        self.bundle.write()
        with self.stdout_path.open("ab") as stdout, self.stderr_path.open("w+b") as stderr:
            argv = ("run", "-d", "--bundle", str(self.bundle.path), *extra, self.id)
            outcome = self.runtime.call(*argv, stdout=stdout, stderr=stderr)
        if outcome.ok:
            self.note_process()
        return outcome

    def run_in_foreground(self) -> subprocess.Popen:
        """`run` left running: the caller waits for its exit status (killed at cleanup)."""
        self.bundle.write()
        with self.stdout_path.open("ab") as stdout, self.stderr_path.open("w+b") as stderr:
            argv = ("run", "--bundle", str(self.bundle.path), self.id)
            process = self.runtime.spawn(*argv, stdout=stdout, stderr=stderr)
        self.lab.defer(lambda: _end(process))
        return process

    def note_process(self) -> None:
        """Takes the pid from `state` (for cleanup) and remembers its cgroups."""
        state = self.runtime.try_state(self.id) or {}
        self.pid = int(state.get("pid") or 0)
        self.lab.note_cgroups(self.pid)

    def state(self) -> dict:
        return self.runtime.state(self.id)

    def try_state(self) -> dict | None:
        return self.runtime.try_state(self.id)

    def kill(self, signal: str = "KILL") -> Outcome:
        return self.runtime.kill(self.id, signal)

    def delete(self, force: bool = False) -> Outcome:
        outcome = self.runtime.delete(self.id, force)
        hostfs.reap(self.pid)
        return outcome

    def wait(self, status: str = "stopped", timeout: float = 10.0) -> dict:
        try:
            return self.runtime.wait_status(self.id, status, timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}; container stderr: {self.errors()!r}") from None

    def output(self) -> str:
        return self.stdout_path.read_text() if self.stdout_path.exists() else ""

    def errors(self) -> str:
        """What the runtime's create and then the container wrote to stderr."""
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def report(self) -> dict:
        text = self.output()
        try:
            return json.loads(text)
        except ValueError as error:
            raise AssertionError(
                f"probe printed no report: {text!r}; stderr: {self.errors()!r}"
            ) from error

    def run_to_exit(self, *create_args: str) -> Container:
        """create, start, wait until stopped, delete: the whole lifecycle, checked."""
        self.create(*create_args).check()
        self.start().check()
        self.wait("stopped")
        self.delete().check()
        return self


class Lab:
    """Bundles and containers for one test against one runtime, cleaned up at the end."""

    def __init__(self, runtime: Runtime, workdir: Path, probe: Path, busybox: Path, tag: str):
        self.runtime = runtime
        self.workdir = workdir
        self.probe_binary = probe
        self.busybox = busybox
        self.tag = tag
        self.containers: list[Container] = []
        self.cgroups: set[str] = set()
        self.finalizers: list[Callable[[], object]] = []
        self.adopted: list[int] = []
        self._bundles = 0

    def new_id(self) -> str:
        return f"conf-{secrets.token_hex(6)}"

    def cgroup_parent(self) -> str:
        """The cgroup under which this session's containers live (absolute paths)."""
        return f"/{hostfs.CLEANUP_MARKER}-{self.tag}"

    def bundle(self, args: list[str] | None = None) -> Bundle:
        """A new bundle with its own rootfs and the default config (not yet written)."""
        self._bundles += 1
        path = self.workdir / f"bundle-{self._bundles}"
        path.mkdir(mode=0o755)
        path.chmod(0o755)
        config = default_config(args)
        config["linux"]["cgroupsPath"] = f"{self.cgroup_parent()}/{secrets.token_hex(6)}"
        bundle = Bundle(path, config)
        make_rootfs(bundle.rootfs, self.busybox, self.probe_binary)
        return bundle

    def container(self, bundle: Bundle, container_id: str | None = None) -> Container:
        container = Container(self, container_id or self.new_id(), bundle)
        self.containers.append(container)
        return container

    def probe(self, bundle: Bundle, *probe_args: str) -> dict:
        """Runs the probe as the container's process and returns its report."""
        bundle.config["process"]["args"] = ["/probe", *probe_args]
        return self.container(bundle).run_to_exit().report()

    def note_cgroups(self, pid: int) -> None:
        """Remembers the container's cgroups so that cleanup can remove leftovers.

        Only this session's (under its marker): cleanup kills what is left in them, and if
        the container has already exited, `pid` may name another process by now (pids wrap
        around within minutes here), such as the init of another session's container.
        """
        mine = f"{hostfs.CLEANUP_MARKER}-{self.tag}"
        with contextlib.suppress(OSError, ValueError):
            self.cgroups.update(p for p in hostfs.process_cgroups(pid).values() if mine in p)

    def adopt(self, pid: int) -> None:
        """A process outside the container's init that ends up our child (exec -d, orphans).

        It is killed and reaped before the containers are deleted: a zombie nobody
        reaps stays in the container's cgroup, and `delete --force` waits for it.
        """
        self.adopted.append(pid)

    def defer(self, finalizer: Callable[[], object]) -> None:
        self.finalizers.append(finalizer)

    def cleanup(self) -> None:
        """Every step runs even if an earlier one failed; the first error is raised at the end."""
        steps: list[Callable[[], object]] = [
            *(lambda p=pid: hostfs.kill_and_reap(p) for pid in self.adopted),
            *(lambda c=container: self._discard(c) for container in reversed(self.containers)),
            *reversed(self.finalizers),
            *(lambda p=path: hostfs.remove_cgroup(p) for path in self.cgroups),
            lambda: hostfs.remove_tree(self.workdir),
        ]
        errors: list[Exception] = []
        for step in steps:
            try:
                step()
            except Exception as error:  # collected, re-raised below
                errors.append(error)
        if errors:
            raise errors[0]

    @staticmethod
    def _discard(container: Container) -> None:
        if container.try_state() is not None:
            container.delete(force=True)
        hostfs.kill_and_reap(container.pid)
