"""Container records in porterd's sqlite database: one row per container, the record as JSON,
the name in its own unique column so that two containers never share a name."""

from __future__ import annotations

import json
import sqlite3

from porterd.containers.record import Container
from porterd.errors import Conflict
from porterd.state import Database

MIGRATIONS = [
    "CREATE TABLE containers"
    " (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, document TEXT NOT NULL)",
]


class ContainerStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        database.migrate("containers", MIGRATIONS)

    def load_all(self) -> list[Container]:
        rows = self.database.query("SELECT document FROM containers")
        return [Container.from_json(json.loads(row[0])) for row in rows]

    def add(self, container: Container) -> None:
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    "INSERT INTO containers (id, name, document) VALUES (?, ?, ?)",
                    (container.id, container.name, _document(container)),
                )
        except sqlite3.IntegrityError:
            raise Conflict(
                f'Conflict. The container name "{container.name}" is already in use. You have to'
                " remove (or rename) that container to be able to reuse that name."
            ) from None

    def save(self, container: Container) -> None:
        """Write the record (its name included: rename saves through here too)."""
        try:
            with self.database.transaction() as connection:
                connection.execute(
                    "UPDATE containers SET name = ?, document = ? WHERE id = ?",
                    (container.name, _document(container), container.id),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"Conflict. The name {container.name!r} is already in use") from None

    def remove(self, container_id: str) -> None:
        with self.database.transaction() as connection:
            connection.execute("DELETE FROM containers WHERE id = ?", (container_id,))


def _document(container: Container) -> str:
    with container.lock:
        return json.dumps(container.to_json(), sort_keys=True)
