"""VolumeService: create, list, inspect, remove and prune volumes; hand mount points out."""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from porterd.disk_usage import tree_size
from porterd.errors import Conflict, InvalidParameter, NotFound
from porterd.events import EventBus
from porterd.labels import has_label
from porterd.state import Database
from porterd.volumes import local

# Docker 23+ marks anonymous volumes so that `volume prune` (API 1.42+) removes only them.
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
DRIVER = "local"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
LIST_FILTERS = ("dangling", "driver", "label", "name")
PRUNE_FILTERS = ("label", "label!", "all")

MIGRATIONS = [
    "CREATE TABLE volumes ("
    " name TEXT PRIMARY KEY, driver TEXT NOT NULL, created_at TEXT NOT NULL,"
    " labels TEXT NOT NULL, options TEXT NOT NULL)",
]


@dataclass(frozen=True)
class Volume:
    name: str
    driver: str
    created_at: str
    mountpoint: Path
    labels: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def anonymous(self) -> bool:
        return ANONYMOUS_LABEL in self.labels

    def to_json(self) -> dict[str, Any]:
        """The `Volume` object of the Engine API."""
        return {
            "CreatedAt": self.created_at,
            "Driver": self.driver,
            "Labels": dict(self.labels),
            "Mountpoint": str(self.mountpoint),
            "Name": self.name,
            "Options": dict(self.options),
            "Scope": "local",
        }


def _check_name(name: str) -> None:
    if len(name) < 2:
        raise InvalidParameter(
            f"create {name}: volume name is too short, names should be at least two"
            " alphanumeric characters"
        )
    if not _NAME.match(name):
        raise InvalidParameter(
            f'create {name}: "{name}" includes invalid characters for a local volume name,'
            ' only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host'
            " directory, use absolute path"
        )


def _now() -> str:
    import datetime

    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class VolumeService:
    """The volumes under `root` (`<data-root>/volumes`), their rows in `database`."""

    def __init__(self, *, database: Database, events: EventBus, root: Path) -> None:
        self.database = database
        self.events = events
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        database.migrate("volumes", MIGRATIONS)
        self._lock = threading.Lock()
        self._users: Callable[[str], list[str]] = lambda name: []

    def set_users(self, users: Callable[[str], list[str]]) -> None:
        """`users(name)` lists the ids of the containers that use a volume (the container
        service answers; it is built after this service, so it is given here)."""
        self._users = users

    # --- what the container service uses ---------------------------------------------------

    def mountpoint_for(self, name: str, *, create: bool) -> Path:
        """The folder to mount for volume `name`, made (and its device mounted) if needed."""
        try:
            volume = self.get(name)
        except NotFound:
            if not create:
                raise
            volume = self.create(name)
        local.make_folder(volume.mountpoint)
        local.mount(volume.mountpoint, volume.options)
        return volume.mountpoint

    def create_anonymous(self) -> str:
        return self.create(secrets.token_hex(32), labels={ANONYMOUS_LABEL: ""}).name

    def users(self, name: str) -> list[str]:
        return self._users(name)

    # --- the API's operations --------------------------------------------------------------

    def create(
        self,
        name: str | None = None,
        *,
        driver: str = DRIVER,
        options: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> Volume:
        """A new volume, or the existing one of that name (creating twice is not an error)."""
        if driver != DRIVER:
            raise NotFound(f'error looking up volume plugin {driver}: plugin "{driver}" not found')
        name = name or secrets.token_hex(32)
        _check_name(name)
        options = dict(options or {})
        local.check_options(options)
        with self._lock:
            try:
                return self.get(name)
            except NotFound:
                pass
            volume = Volume(name, driver, _now(), self._data(name), dict(labels or {}), options)
            local.make_folder(volume.mountpoint)
            with self.database.transaction() as connection:
                connection.execute(
                    "INSERT INTO volumes VALUES (?, ?, ?, ?, ?)",
                    (
                        name,
                        driver,
                        volume.created_at,
                        json.dumps(volume.labels),
                        json.dumps(options),
                    ),
                )
        self.events.publish("volume", "create", name, {"driver": driver})
        return volume

    def get(self, name: str) -> Volume:
        rows = self.database.query("SELECT * FROM volumes WHERE name = ?", (name,))
        if not rows:
            raise NotFound(f"get {name}: no such volume")
        return self._volume(rows[0])

    def list(self, filters: Mapping[str, list[str]] | None = None) -> list[Volume]:
        volumes = [self._volume(row) for row in self.database.query("SELECT * FROM volumes")]
        accepts = self._list_filter(filters or {})
        return sorted((v for v in volumes if accepts(v)), key=lambda volume: volume.name)

    def remove(self, name: str, *, force: bool = False) -> None:
        with self._lock:
            try:
                volume = self.get(name)
            except NotFound:
                if force:
                    return
                raise
            users = self.users(name)
            if users:
                raise Conflict(f"remove {name}: volume is in use - [{', '.join(users)}]")
            with self.database.transaction() as connection:
                connection.execute("DELETE FROM volumes WHERE name = ?", (name,))
                local.remove_folder(volume.mountpoint)
        self.events.publish("volume", "destroy", name, {"driver": volume.driver})

    def prune(self, filters: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
        """Remove unused volumes: anonymous ones only, unless `all=true` (API 1.42+)."""
        filters = dict(filters or {})
        every = any(value.lower() in ("1", "true") for value in filters.pop("all", []))
        keep = filters.pop("label!", [])
        deleted, reclaimed = [], 0
        for volume in self.list({"label": filters.get("label", [])} if filters else None):
            if not every and not volume.anonymous:
                continue
            if any(has_label(volume.labels, label) for label in keep) or self.users(volume.name):
                continue
            size = tree_size(volume.mountpoint)
            try:
                self.remove(volume.name)
            except Conflict:
                continue  # taken into use meanwhile
            deleted.append(volume.name)
            reclaimed += max(size, 0)
        self.events.publish("volume", "prune", "", {"reclaimed": str(reclaimed)})
        return {"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed}

    def usage(self) -> list[dict[str, Any]]:
        """Volumes with `UsageData` (size and containers using them), for `/system/df`."""
        documents = []
        for volume in self.list():
            document = volume.to_json()
            document["UsageData"] = {
                "Size": tree_size(volume.mountpoint),
                "RefCount": len(self.users(volume.name)),
            }
            documents.append(document)
        return documents

    # --- internals --------------------------------------------------------------------------

    def _data(self, name: str) -> Path:
        return self.root / name / "_data"

    def _volume(self, row: Any) -> Volume:
        return Volume(
            row["name"],
            row["driver"],
            row["created_at"],
            self._data(row["name"]),
            json.loads(row["labels"]),
            json.loads(row["options"]),
        )

    def _list_filter(self, filters: Mapping[str, list[str]]) -> Callable[[Volume], bool]:
        dangling = _dangling(filters.get("dangling", []))

        def accepts(volume: Volume) -> bool:
            if dangling is not None and (not self.users(volume.name)) != dangling:
                return False
            if filters.get("driver") and volume.driver not in filters["driver"]:
                return False
            if filters.get("name") and not any(n in volume.name for n in filters["name"]):
                return False
            return all(has_label(volume.labels, label) for label in filters.get("label", []))

        return accepts


def _dangling(values: list[str]) -> bool | None:
    if not values:
        return None
    value = values[-1].lower()
    if value not in ("true", "false", "1", "0"):
        raise InvalidParameter(f"invalid filter 'dangling={values[-1]}'")
    return value in ("true", "1")
