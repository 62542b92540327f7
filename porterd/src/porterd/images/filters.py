"""`filters` of `GET /images/json` and `POST /images/prune`, as dockerd reads them."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence

from porter_image.reference import parse_docker_reference

from porterd.clock import filter_until
from porterd.errors import InvalidParameter
from porterd.images.docker_json import unix_time
from porterd.images.records import StoredImage

LIST_FILTERS = ("dangling", "label", "before", "since", "reference", "until")
PRUNE_FILTERS = ("dangling", "label", "label!", "until")

Predicate = Callable[[StoredImage], bool]


def dangling(filters: Mapping[str, Sequence[str]], default: bool | None) -> bool | None:
    """The `dangling` filter: True, False, or `default` when absent."""
    values = {v.lower() for v in filters.get("dangling", [])}
    if not values:
        return default
    if len(values) > 1 or not values <= {"true", "false", "1", "0"}:
        raise InvalidParameter(f"invalid filter 'dangling={','.join(sorted(values))}'")
    return values.pop() in ("true", "1")


def matcher(filters: Mapping[str, Sequence[str]], get: Callable[[str], StoredImage]) -> Predicate:
    """A predicate an image must pass to be listed (or pruned); `get` resolves before/since."""
    tests: list[Predicate] = []
    wanted = dangling(filters, None)
    if wanted is not None:
        tests.append(lambda s: (not s.names) == wanted)
    for label in filters.get("label", []):
        tests.append(lambda s, label=label: _has_label(s, label))
    for label in filters.get("label!", []):
        tests.append(lambda s, label=label: not _has_label(s, label))
    for name in filters.get("before", []):
        limit = _created(get(name))
        tests.append(lambda s, limit=limit: _created(s) < limit)
    for name in filters.get("since", []):
        limit = _created(get(name))
        tests.append(lambda s, limit=limit: _created(s) > limit)
    for value in filters.get("until", []):
        limit = filter_until(value)
        tests.append(lambda s, limit=limit: _created(s) < limit)
    patterns = filters.get("reference", [])
    if patterns:
        tests.append(lambda s: any(_reference_matches(s, p) for p in patterns))
    return lambda stored: all(test(stored) for test in tests)


def _created(stored: StoredImage) -> int:
    return unix_time(str(stored.config.get("created") or ""))


def _has_label(stored: StoredImage, wanted: str) -> bool:
    labels = (stored.config.get("config") or {}).get("Labels") or {}
    key, eq, value = wanted.partition("=")
    return key in labels and (not eq or labels[key] == value)


def _reference_matches(stored: StoredImage, pattern: str) -> bool:
    """dockerd matches the familiar name, and name:tag, against the pattern."""
    for name in stored.names:
        reference = parse_docker_reference(name)
        familiar = reference.familiar_name()
        candidates = [familiar, reference.familiar(), f"{familiar}:{reference.tag or ''}"]
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            return True
    return False
