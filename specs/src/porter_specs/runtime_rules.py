"""The rules of the runtime-spec's config.json that a JSON Schema cannot express.

Duplicates the spec says a runtime MUST refuse, and the combinations runc refuses before it
touches the host (mappings without a user namespace, swap below the memory limit...).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at every runtime start, which checks these
    from collections.abc import Iterator
    from typing import Any

    from porter_specs.problem import Problem


def _problem(path: tuple[str | int, ...], message: str) -> Problem:
    """A problem at `path`; porter_specs.problem is imported only for a config that has one
    (porter-runtime checks every config it creates a container from)."""
    from porter_specs.problem import Problem

    return Problem(_pointer(path), message)


def _pointer(path: tuple[str | int, ...]) -> str:
    from porter_specs.problem import pointer_of

    return pointer_of(path)


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _duplicates(
    entries: list[Any], key: str, path: tuple[str, ...], what: str
) -> Iterator[Problem]:
    """Entries whose `key` repeats an earlier entry's."""
    first: dict[Any, int] = {}
    for index, entry in enumerate(entries):
        value = entry.get(key) if isinstance(entry, dict) else None
        if not isinstance(value, str):
            continue
        if value in first:
            earlier = _pointer((*path, first[value]))
            yield _problem((*path, index, key), f"repeats {what} {value} of {earlier}")
        else:
            first[value] = index


def check_config(document: dict[str, Any]) -> Iterator[Problem]:
    """Yield the rule problems of a runtime config.json."""
    process = _object(document.get("process"))
    rlimits = _items(process.get("rlimits"))
    yield from _duplicates(rlimits, "type", ("process", "rlimits"), "rlimit")
    for index, entry in enumerate(_items(process.get("env"))):
        if isinstance(entry, str) and "=" not in entry:
            yield _problem(("process", "env", index), "must be NAME=value")
    yield from _linux(_object(document.get("linux")))


def _linux(linux: dict[str, Any]) -> Iterator[Problem]:
    namespaces = _items(linux.get("namespaces"))
    yield from _duplicates(namespaces, "type", ("linux", "namespaces"), "namespace type")
    types = {ns.get("type") for ns in namespaces if isinstance(ns, dict)}
    for key in ("uidMappings", "gidMappings"):
        if linux.get(key) and "user" not in types:
            yield _problem(("linux", key), "needs a user namespace in linux.namespaces")
    if linux.get("timeOffsets") and "time" not in types:
        yield _problem(("linux", "timeOffsets"), "needs a time namespace in linux.namespaces")
    resources = _object(linux.get("resources"))
    yield from _memory(_object(resources.get("memory")))
    yield from _cpu(_object(resources.get("cpu")))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _memory(memory: dict[str, Any]) -> Iterator[Problem]:
    limit, swap = _int(memory.get("limit")), _int(memory.get("swap"))
    if limit is not None and swap is not None and limit > 0 and 0 <= swap < limit:
        path = ("linux", "resources", "memory", "swap")
        yield _problem(path, f"must be at least limit ({limit}): swap counts memory too")


def _cpu(cpu: dict[str, Any]) -> Iterator[Problem]:
    quota, burst = _int(cpu.get("quota")), _int(cpu.get("burst"))
    if quota is not None and burst is not None and quota > 0 and burst > quota:
        path = ("linux", "resources", "cpu", "burst")
        yield _problem(path, f"must not exceed quota ({quota})")
