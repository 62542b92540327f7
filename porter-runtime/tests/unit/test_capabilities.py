"""Capability names to masks, and the order of the calls that apply them."""

import pytest
from porter_runtime import capabilities
from porter_runtime import syscalls as sc
from porter_runtime.capabilities import CapabilityPlan
from porter_runtime.errors import ConfigError
from porter_runtime.syscalls.fake import RecordingSyscalls


def test_names_map_to_kernel_numbers():
    assert capabilities.to_mask(["CAP_CHOWN", "CAP_KILL"], 40) == 1 << 0 | 1 << 5


def test_mask_skips_capabilities_beyond_the_limit():
    assert capabilities.to_mask(["CAP_CHECKPOINT_RESTORE"], 39) == 0


@pytest.mark.parametrize("kind", capabilities.SETS)
def test_unknown_capability_in_any_set_is_refused_by_name(kind):
    with pytest.raises(ConfigError) as info:
        capabilities.check_names({kind: ["CAP_KILL", "CAP_TEST"]})
    assert str(info.value) == f"process.capabilities.{kind}: unknown capability 'CAP_TEST'"


def test_capability_the_kernel_does_not_know_is_a_warning_not_an_error(monkeypatch, capsys):
    monkeypatch.setattr(capabilities, "last_cap", lambda: 37)
    capabilities.check_names({"bounding": ["CAP_AUDIT_READ", "CAP_PERFMON"]})
    warning = capsys.readouterr().err
    assert warning.startswith("porter-runtime: warning: process.capabilities.bounding: ")
    assert "CAP_PERFMON is not known to this kernel" in warning


def test_known_capabilities_pass_the_check():
    capabilities.check_names({"bounding": ["CAP_KILL", "kill", "cap_chown"], "ambient": []})
    capabilities.check_names(None)


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


def test_capability_outside_the_runtimes_bounding_set_is_a_warning(monkeypatch, capsys):
    sys_resource = capabilities.NUMBERS["CAP_SYS_RESOURCE"]
    monkeypatch.setattr(capabilities, "own_bounding_set", lambda: ~(1 << sys_resource))
    capabilities.check_names({"permitted": ["CAP_KILL", "CAP_SYS_RESOURCE"]})
    warning = capsys.readouterr().err
    assert "CAP_SYS_RESOURCE is outside the runtime's own bounding set" in warning


def test_plan_leaves_out_what_the_runtime_cannot_grant(monkeypatch):
    sys_resource = capabilities.NUMBERS["CAP_SYS_RESOURCE"]
    kill = capabilities.NUMBERS["CAP_KILL"]
    monkeypatch.setattr(capabilities, "own_bounding_set", lambda: ~(1 << sys_resource))
    plan = capabilities.CapabilityPlan({"permitted": ["CAP_KILL", "CAP_SYS_RESOURCE"]})
    assert plan.permitted == 1 << kill
