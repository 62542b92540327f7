"""Exec sessions: their exit codes collected from conmon's file, old ones forgotten."""

from __future__ import annotations

from pathlib import Path

import pytest
from porterd.containers import execs
from porterd.containers.execs import ExecSession, ExecSessions


def session_in(tmp_path: Path, name: str) -> ExecSession:
    folder = tmp_path / name
    (folder / "persist").mkdir(parents=True)
    return ExecSession(name, "c" * 64, {"Cmd": ["true"]}, folder, running=True, started=True)


def test_a_session_is_running_until_conmon_writes_its_exit_code(tmp_path: Path) -> None:
    session = session_in(tmp_path, "one")
    assert not session.collect() and session.running
    session.exit_file.write_text("3")
    assert session.collect()
    assert (session.running, session.exit_code) == (False, 3)
    assert session.inspect()["ExitCode"] == 3 and session.inspect()["CanRemove"]


def test_ended_sessions_are_forgotten_after_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = ExecSessions(service=None)  # type: ignore[arg-type]  # tick needs no service
    ended, running = session_in(tmp_path, "ended"), session_in(tmp_path, "running")
    sessions._sessions = {s.id: s for s in (ended, running)}
    ended.exit_file.write_text("0")
    sessions.tick()
    assert set(sessions._sessions) == {"ended", "running"}  # ended just now: kept
    monkeypatch.setattr(execs, "FORGET_AFTER", -1.0)
    sessions.tick()
    assert set(sessions._sessions) == {"running"}
    assert not ended.folder.exists() and running.folder.exists()
