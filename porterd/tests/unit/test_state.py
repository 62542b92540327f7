"""porterd.state.Database: per-component migrations and atomic, thread-safe transactions."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from porterd.state import Database, StateError

TABLES = ["CREATE TABLE things (name TEXT PRIMARY KEY, size INTEGER)"]


@pytest.fixture
def database(tmp_path: Path):
    database = Database(tmp_path / "state" / "porterd.db")
    database.migrate("things", TABLES)
    yield database
    database.close()


def test_the_database_file_is_in_wal_mode(database: Database) -> None:
    assert database.query("PRAGMA journal_mode")[0][0] == "wal"


def test_a_committed_transaction_is_seen_by_a_new_connection(database: Database) -> None:
    with database.transaction() as connection:
        connection.execute("INSERT INTO things VALUES ('a', 1)")
    reopened = Database(database.path)
    assert [tuple(row) for row in reopened.query("SELECT * FROM things")] == [("a", 1)]
    reopened.close()


def test_a_transaction_that_raises_leaves_nothing_behind(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as connection:
        connection.execute("INSERT INTO things VALUES ('a', 1)")
        raise RuntimeError("half way")
    assert database.query("SELECT * FROM things") == []


def test_a_nested_transaction_commits_with_the_outer_one(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as outer:
        outer.execute("INSERT INTO things VALUES ('a', 1)")
        with database.transaction() as inner:
            inner.execute("INSERT INTO things VALUES ('b', 2)")
        raise RuntimeError("after the inner block")
    assert database.query("SELECT * FROM things") == []


def test_each_migration_statement_runs_once(tmp_path: Path) -> None:
    database = Database(tmp_path / "db")
    database.migrate("things", TABLES)
    database.migrate("things", TABLES)  # a second start: nothing to apply, no error
    database.migrate("things", [*TABLES, "ALTER TABLE things ADD COLUMN colour TEXT"])
    columns = [row["name"] for row in database.query("PRAGMA table_info(things)")]
    assert columns == ["name", "size", "colour"]


def test_components_migrate_independently(database: Database) -> None:
    database.migrate("others", ["CREATE TABLE others (id TEXT)"])
    versions = dict(
        (row["component"], row["applied"])
        for row in database.query("SELECT * FROM schema_versions")
    )
    assert versions == {"things": 1, "others": 1}


def test_a_database_migrated_further_than_known_is_refused(database: Database) -> None:
    with pytest.raises(StateError, match="things has 1 migrations applied, this porterd knows 0"):
        database.migrate("things", [])


def test_a_failing_migration_applies_none_of_its_statements(database: Database) -> None:
    with pytest.raises(sqlite3.OperationalError):
        database.migrate("things", [*TABLES, "CREATE TABLE t2 (a)", "NOT SQL"])
    assert database.query("SELECT name FROM sqlite_master WHERE name = 't2'") == []


def test_concurrent_writers_from_many_threads_lose_no_row(database: Database) -> None:
    def write(prefix: str) -> None:
        for n in range(50):
            with database.transaction() as connection:
                connection.execute("INSERT INTO things VALUES (?, ?)", (f"{prefix}{n}", n))

    threads = [threading.Thread(target=write, args=(str(t),)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert database.query("SELECT count(*) FROM things")[0][0] == 200


def test_an_unopenable_path_is_one_state_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(StateError, match="state database"):
        Database(tmp_path / "file" / "db")


def test_a_commit_survives_the_kill_of_the_process_that_made_it(tmp_path: Path) -> None:
    path = tmp_path / "porterd.db"
    writer = (
        "import os, signal, sys\n"
        "from porterd.state import Database\n"
        "database = Database(sys.argv[1])\n"
        f"database.migrate('things', {TABLES!r})\n"
        "with database.transaction() as connection:\n"
        "    connection.execute(\"INSERT INTO things VALUES ('kept', 1)\")\n"
        "os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", writer, str(path)], capture_output=True, check=False, timeout=60
    )
    assert killed.returncode == -9, killed.stderr
    reopened = Database(path)
    try:
        assert [tuple(row) for row in reopened.query("SELECT * FROM things")] == [("kept", 1)]
    finally:
        reopened.close()
