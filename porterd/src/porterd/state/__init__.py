"""porterd's metadata store: one sqlite database (WAL) under the data root.

Each component (containers, volumes, later networks) declares its own tables through
`Database.migrate(component, statements)`: statement N runs once, in order, and the number
applied so far is kept per component, so a component adds a table by appending a statement.
Writes go through `transaction()` (BEGIN IMMEDIATE), so a crash leaves either the old rows or
the new ones. One connection serves every thread, guarded by a lock.

`synchronous=NORMAL`, which in WAL mode syncs the log at checkpoints rather than at every
commit: a killed porterd (kill -9 included) loses no committed transaction, as each is in the
log already, and a power cut or kernel crash can lose only the last ones, never leaving a
half-written one. FULL's sync at each commit was held under the one connection's lock, so the
20 removals of an `rm -f` of 20 waited for some 40 syncs one after another.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from porter_specs.errors import PorterError

_VERSIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, applied INTEGER)"
)


class StateError(PorterError):
    """The metadata database cannot be opened or migrated."""


class Database:
    """The sqlite file at `path`, shared by every thread of the daemon."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions, every one is begun explicitly.
            self._connection = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            self._connection.row_factory = sqlite3.Row
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute("PRAGMA synchronous=NORMAL")
            self._connection.execute("PRAGMA foreign_keys=ON")
            self._connection.execute(_VERSIONS_TABLE)
        except (OSError, sqlite3.Error) as error:
            raise StateError(f"state database {self.path}: {error}") from error
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises.

        Nested use joins the outer transaction (one commit at the end of the outermost).
        """
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._connection
                finally:
                    self._depth -= 1
                return
            self._connection.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            else:
                self._connection.execute("COMMIT")
            finally:
                self._depth = 0

    def query(self, sql: str, parameters: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of one read, consistent with every committed transaction."""
        with self._lock:
            return self._connection.execute(sql, parameters).fetchall()

    def migrate(self, component: str, statements: Sequence[str]) -> None:
        """Run the statements of `component` not applied yet, each once, in order."""
        with self.transaction() as connection:
            row = connection.execute(
                "SELECT applied FROM schema_versions WHERE component = ?", (component,)
            ).fetchone()
            applied = row["applied"] if row else 0
            if applied > len(statements):
                raise StateError(
                    f"state database {self.path}: {component} has {applied} migrations applied,"
                    f" this porterd knows {len(statements)} (written by a newer porterd?)"
                )
            for statement in statements[applied:]:
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_versions (component, applied) VALUES (?, ?)"
                " ON CONFLICT(component) DO UPDATE SET applied = excluded.applied",
                (component, len(statements)),
            )

    def close(self) -> None:
        with self._lock:
            self._connection.close()
