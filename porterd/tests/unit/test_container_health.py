"""A container's Healthcheck read as dockerd reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from porterd.containers.health import DEFAULT_INTERVAL, DEFAULT_RETRIES, Health, Probe
from porterd.containers.record import Container


def container_with(healthcheck: dict[str, Any] | None) -> Container:
    return Container(
        id="a" * 64, name="/h", created="2026-01-01T00:00:00Z", image="busybox",
        image_id="sha256:" + "0" * 64, image_config={}, lowerdirs=(),
        config={"Healthcheck": healthcheck} if healthcheck else {}, host_config={},
        runtime="porter-runtime",
    )  # fmt: skip


def test_cmd_shell_runs_through_sh() -> None:
    probe = Probe.of(container_with({"Test": ["CMD-SHELL", "curl -f localhost"]}))
    assert probe is not None and probe.argv == ("/bin/sh", "-c", "curl -f localhost")


def test_cmd_runs_its_arguments() -> None:
    probe = Probe.of(container_with({"Test": ["CMD", "true", "x"]}))
    assert probe is not None and probe.argv == ("true", "x")


def test_none_and_no_healthcheck_mean_no_probe() -> None:
    assert Probe.of(container_with({"Test": ["NONE"]})) is None
    assert Probe.of(container_with(None)) is None


def test_durations_are_nanoseconds_with_dockers_defaults() -> None:
    probe = Probe.of(container_with({"Test": ["CMD", "true"], "Timeout": 2_500_000_000}))
    assert probe is not None
    assert (probe.interval, probe.timeout, probe.retries) == (
        DEFAULT_INTERVAL,
        2.5,
        DEFAULT_RETRIES,
    )


def started_at(container: Container, when: str) -> Container:
    container.state.started_at = when
    return container


def test_the_health_of_a_run_is_read_back_as_it_was_saved(tmp_path: Path) -> None:
    running = started_at(container_with({"Test": ["CMD", "true"]}), "2026-01-01T00:00:01Z")
    saved = Health.of_run(running, 30.0, tmp_path / "health.json")
    saved.status, saved.failing_streak = "unhealthy", 4
    saved.log = [{"Start": "s", "End": "e", "ExitCode": 1, "Output": "no"}]
    saved.save(tmp_path / "health.json")
    again = Health.of_run(running, 30.0, tmp_path / "health.json")
    assert again.to_json() == saved.to_json()


def test_a_new_run_of_the_container_starts_at_starting(tmp_path: Path) -> None:
    first = started_at(container_with({"Test": ["CMD", "true"]}), "2026-01-01T00:00:01Z")
    saved = Health.of_run(first, 30.0, tmp_path / "health.json")
    saved.status = "healthy"
    saved.save(tmp_path / "health.json")
    second = started_at(container_with({"Test": ["CMD", "true"]}), "2026-01-01T00:05:00Z")
    assert Health.of_run(second, 30.0, tmp_path / "health.json").to_json() == {
        "Status": "starting",
        "FailingStreak": 0,
        "Log": [],
    }
