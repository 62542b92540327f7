"""Runs the distribution conformance checks against every target, side by side.

With OCI_ROOT_URL set, the one target is that registry. Otherwise the suite starts
porter-registry and Debian's docker-registry itself, each on a free loopback port with its data
in a temporary folder. Known failures of a target are marked xfail(strict=True) for it alone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from distribution_conformance.client import RegistryClient  # noqa: E402
from distribution_conformance.known import load_known_failures  # noqa: E402
from distribution_conformance.settings import Settings, SettingsError  # noqa: E402
from distribution_conformance.targets import (  # noqa: E402
    LAUNCHERS,
    Target,
    TargetUnavailable,
)

_SETTINGS = pytest.StashKey[Settings]()
_OUTCOMES = ("passed", "failed", "xfailed", "xpassed", "skipped", "error")
_WORKFLOW_VARIABLES = {
    "pull": "OCI_TEST_PULL",
    "push": "OCI_TEST_PUSH",
    "content_discovery": "OCI_TEST_CONTENT_DISCOVERY",
    "content_management": "OCI_TEST_CONTENT_MANAGEMENT",
    "catalog": "OCI_TEST_CATALOG",
}


KNOWN_FAILURES = load_known_failures()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "workflow(name): a distribution-spec conformance workflow")
    try:
        config.stash[_SETTINGS] = Settings.from_environ(os.environ)
    except SettingsError as exc:
        raise pytest.UsageError(f"distribution conformance: {exc}") from exc


def _target_names(settings: Settings) -> list[str]:
    return [settings.target_name] if settings.root_url else list(LAUNCHERS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "registry" in metafunc.fixturenames:
        names = _target_names(metafunc.config.stash[_SETTINGS])
        metafunc.parametrize("registry", names, indirect=True, scope="session")


def _enabled(settings: Settings, workflow: str) -> bool:
    if workflow == "catalog":
        return settings.test_catalog
    return workflow in settings.workflows


def known_failure(target: str, item: pytest.Item) -> str | None:
    """The recorded reason why target fails this check: by test name, or name[case]."""
    failures = KNOWN_FAILURES.get(target, {})
    name = getattr(item, "originalname", item.name)
    case = item.callspec.id.replace(target, "", 1).strip("-")
    if case and f"{name}[{case}]" in failures:
        return failures[f"{name}[{case}]"]
    return failures.get(name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks this suite's checks only: the hook sees every item of the session."""
    settings = config.stash[_SETTINGS]
    here = Path(__file__).parent
    for item in items:
        if not item.path.is_relative_to(here):
            continue
        marker = item.get_closest_marker("workflow")
        if marker and not _enabled(settings, marker.args[0]):
            variable = _WORKFLOW_VARIABLES[marker.args[0]]
            item.add_marker(pytest.mark.skip(reason=f"{variable}={os.environ.get(variable)}"))
        callspec = getattr(item, "callspec", None)
        target = callspec.params.get("registry") if callspec else None
        if target is None:
            continue
        item.user_properties.append(("target", target))
        reason = known_failure(target, item)
        if reason:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"{target}: {reason}"))


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    return pytestconfig.stash[_SETTINGS]


@contextlib.contextmanager
def started(name: str, delete_enabled: bool) -> Iterator[str]:
    """Start a registry the suite knows how to run; skip when it cannot run here."""
    workdir = Path(tempfile.mkdtemp(prefix=f"conformance-{name}-"))
    try:
        with contextlib.ExitStack() as stack:
            try:
                url = stack.enter_context(LAUNCHERS[name].start(workdir, delete_enabled))
            except TargetUnavailable as exc:
                pytest.skip(str(exc))
            yield url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def registry(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Target]:
    name = request.param
    if settings.root_url:
        yield Target(name, settings.root_url, settings.automatic_crossmount)
        return
    expected_mount = settings.automatic_crossmount
    if expected_mount is None:
        expected_mount = LAUNCHERS[name].automatic_crossmount
    with started(name, delete_enabled=True) as url:
        yield Target(name, url, expected_mount)


@pytest.fixture(scope="session")
def client(registry: Target, settings: Settings) -> Iterator[RegistryClient]:
    session = RegistryClient(
        registry.root_url, settings.username, settings.password, settings.debug
    )
    yield session
    session.close()


@pytest.fixture(scope="session")
def namespace(settings: Settings) -> str:
    return settings.namespace


@pytest.fixture(scope="session")
def crossmount_namespace(settings: Settings) -> str:
    return settings.crossmount_namespace


def pytest_terminal_summary(terminalreporter) -> None:
    """Per target: how many checks passed, failed, failed as known, and were skipped."""
    counts: dict[str, Counter] = {}
    for outcome in _OUTCOMES:
        for report in terminalreporter.stats.get(outcome, []):
            target = dict(getattr(report, "user_properties", ())).get("target")
            if target:
                counts.setdefault(target, Counter())[outcome] += 1
    if not counts:
        return
    terminalreporter.write_sep("=", "distribution conformance per target")
    header = f"{'target':<20}" + "".join(f"{o:>9}" for o in _OUTCOMES)
    terminalreporter.write_line(header)
    for target, counter in counts.items():
        cells = "".join(f"{counter[o]:>9}" for o in _OUTCOMES)
        terminalreporter.write_line(f"{target:<20}{cells}")


@pytest.fixture(scope="module")
def delete_disabled_client(registry: Target, settings: Settings) -> Iterator[RegistryClient]:
    """A second registry of the same kind with deletes disabled (OCI_DELETE_DISABLED_ROOT_URL
    when the target is external)."""
    with contextlib.ExitStack() as stack:
        if settings.root_url:
            if not settings.delete_disabled_root_url:
                pytest.skip("OCI_DELETE_DISABLED_ROOT_URL is not set")
            url = settings.delete_disabled_root_url
        else:
            url = stack.enter_context(started(registry.name, delete_enabled=False))
        session = RegistryClient(url, settings.username, settings.password, settings.debug)
        stack.callback(session.close)
        yield session
