"""Capability names to masks, and the order of the calls that apply them."""

from porter_runtime import capabilities
from porter_runtime import syscalls as sc
from porter_runtime.capabilities import CapabilityPlan
from porter_runtime.syscalls.fake import RecordingSyscalls


def test_names_map_to_kernel_numbers():
    assert capabilities.to_mask(["CAP_CHOWN", "CAP_KILL"], 40) == 1 << 0 | 1 << 5


def test_unknown_and_too_new_capabilities_are_ignored():
    assert capabilities.to_mask(["CAP_NOT_A_THING"], 40) == 0
    assert capabilities.to_mask(["CAP_CHECKPOINT_RESTORE"], 39) == 0


def test_bounding_set_drops_every_capability_not_listed():
    plan = CapabilityPlan({"bounding": ["CAP_KILL"]})
    calls = RecordingSyscalls()
    plan.drop_bounding(calls)
    dropped = {c[2] for c in calls.named("prctl") if c[1] == sc.PR_CAPBSET_DROP}
    assert 5 not in dropped
    assert dropped == set(range(plan.limit + 1)) - {5}


def test_capset_gets_the_three_sets():
    plan = CapabilityPlan(
        {"effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_CHOWN"], "inheritable": []}
    )
    calls = RecordingSyscalls()
    plan.apply(calls)
    assert calls.named("capset") == [("capset", 1 << 5, 1 << 5 | 1, 0)]


def test_ambient_is_raised_only_when_permitted_and_inheritable():
    plan = CapabilityPlan(
        {
            "permitted": ["CAP_KILL", "CAP_CHOWN"],
            "inheritable": ["CAP_KILL"],
            "ambient": ["CAP_KILL", "CAP_CHOWN"],
        }
    )
    calls = RecordingSyscalls()
    plan.apply(calls)
    raised = [c[3] for c in calls.named("prctl") if c[1] == sc.PR_CAP_AMBIENT]
    assert raised == [5]
