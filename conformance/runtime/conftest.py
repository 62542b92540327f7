"""Fixtures of the runtime conformance suite and its side-by-side report.

Every test takes `lab` (or `runtime`) and so runs once per runtime under test:
porter-runtime and runc by default, or the runtimes named in RUNTIME=/path[,...].
Checks that a runtime is known to fail on this machine are marked xfail(strict)
from known_failures.py, so they are reported, never dropped.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conformance.runtime import hostfs
from conformance.runtime.host_features import missing_file, missing_program
from conformance.runtime.known_failures import KNOWN_FAILURES
from conformance.runtime.lab import Lab
from conformance.runtime.report import SideBySide
from conformance.runtime.runtimes import HANG_LIMIT, Runtime, Target, discover_targets

HERE = Path(__file__).resolve().parent
TARGETS = discover_targets()
REPORT = SideBySide([target.name for target in TARGETS])
SESSION_TAG = secrets.token_hex(4)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the known failures (strict xfail) and registers checks for the report."""
    for item in items:
        target = _target_of(item)
        if target is None:
            continue
        check = item.nodeid.split("::", 1)[-1].replace(f"[{target.name}]", "")
        check = check.replace(f"[{target.name}-", "[").replace(f"-{target.name}]", "]")
        REPORT.register(item.nodeid, check, target.name)
        known = KNOWN_FAILURES.get(target.name, {})
        reason = known.get(check) or known.get(getattr(item, "originalname", ""))
        if reason:
            item.add_marker(pytest.mark.xfail(strict=True, reason=reason))


def _target_of(item: pytest.Item) -> Target | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None or not str(item.path).startswith(str(HERE)):
        return None
    target = callspec.params.get("runtime")
    return target if isinstance(target, Target) else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    REPORT.record(report)


def pytest_terminal_summary(terminalreporter) -> None:
    lines = REPORT.render()
    if lines:
        terminalreporter.section("runtime conformance: side by side")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def session_dir():
    path = Path(tempfile.mkdtemp(prefix="porter-conformance-"))
    path.chmod(0o755)
    hostfs.become_subreaper()
    yield path
    for base in {"/", *hostfs.process_cgroups("self").values()}:
        hostfs.remove_cgroup(f"{base.rstrip('/')}/{hostfs.CLEANUP_MARKER}-{SESSION_TAG}")
    hostfs.remove_tree(path)


@pytest.fixture(scope="session")
def probe_binary(session_dir: Path) -> Path:
    """The probe, compiled once per session as a static binary (skips without gcc or a
    static C library)."""
    reason = missing_program("gcc")
    if reason:
        pytest.skip(f"the probe cannot be built: {reason}")
    out = session_dir / "probe"
    source = HERE / "probe" / "probe.c"
    built = subprocess.run(
        ["gcc", "-static", "-O2", "-o", str(out), str(source)], capture_output=True, text=True
    )
    if built.returncode != 0:
        pytest.skip(f"the probe cannot be built statically here: {built.stderr.strip()[-300:]}")
    out.chmod(0o755)
    return out


@pytest.fixture(scope="session")
def busybox_binary(session_dir: Path) -> Path:
    """A private copy of busybox-static, so no container can ever touch the host's."""
    reason = missing_file("/bin/busybox", "busybox-static")
    if reason:
        pytest.skip(reason)
    out = session_dir / "busybox"
    out.write_bytes(Path("/bin/busybox").read_bytes())
    out.chmod(0o755)
    return out


@pytest.fixture(scope="session", params=TARGETS, ids=[target.name for target in TARGETS])
def runtime(request, session_dir: Path):
    target: Target = request.param
    if target.skip_reason:
        pytest.skip(target.skip_reason)
    root = session_dir / f"root-{target.name}"
    driver = Runtime(target, root)
    yield driver
    for leftover in driver.leftover_ids():
        driver.delete(leftover, force=True)


@pytest.fixture
def lab(runtime: Runtime, session_dir: Path, probe_binary: Path, busybox_binary: Path):
    if runtime.hangs >= HANG_LIMIT:
        pytest.fail(f"not run: {runtime.name} already hung {runtime.hangs} times in this run")
    workdir = Path(tempfile.mkdtemp(prefix=f"{runtime.name}-", dir=session_dir))
    workdir.chmod(0o755)
    bench = Lab(runtime, workdir, probe_binary, busybox_binary, SESSION_TAG)
    yield bench
    bench.cleanup()
