"""Which containers get their init cloned straight into its namespaces (no stage A)."""

from __future__ import annotations

import pytest
from porter_runtime import launch
from porter_runtime.init import InitSpec
from porter_runtime.namespaces import NamespacePlan


def _spec(namespaces: list[dict], exec_mode: bool = False) -> InitSpec:
    plan = NamespacePlan(namespaces)
    return InitSpec({}, {"args": ["true"]}, exec_mode=exec_mode, new=plan.new, join=plan.join)


@pytest.mark.parametrize(
    "types",
    [[], ["pid", "network", "ipc", "uts", "mount"], ["pid", "mount", "cgroup"]],
    ids=["none", "runc-default", "with-cgroup"],
)
def test_new_namespaces_alone_are_cloned_directly(types):
    assert launch.clones_init(_spec([{"type": t} for t in types]))


@pytest.mark.parametrize("kind", ["user", "time"])
def test_a_new_user_or_time_namespace_takes_stage_a(kind):
    assert not launch.clones_init(_spec([{"type": "pid"}, {"type": kind}]))


def test_joining_a_namespace_takes_stage_a():
    spec = _spec([{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}])
    assert not launch.clones_init(spec)


def test_exec_takes_stage_a():
    assert not launch.clones_init(_spec([{"type": "pid"}], exec_mode=True))
