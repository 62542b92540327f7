"""The runtime config and state models, and the lifecycle guards of Status."""

from __future__ import annotations

import pytest
from porter_specs.errors import DocumentError
from porter_specs.runtime_config import IDMapping, Namespace, RuntimeConfig
from porter_specs.runtime_state import State, Status


def test_the_specs_full_config_example_round_trips(example):
    document = example("runtime-config")
    assert RuntimeConfig.from_json(document).to_json() == document


def test_json_keys_that_are_not_camel_case_of_the_field_are_kept(example):
    linux = RuntimeConfig.from_json(example("runtime-config")).linux
    assert linux is not None and linux.uid_mappings[0] == IDMapping(0, 1000, 32000)
    assert linux.resources is not None and linux.resources.block_io is not None
    assert linux.resources.block_io.throttle_write_iops_device[0].rate == 300


def test_a_config_loads_from_bytes_and_encodes_back(example):
    config = RuntimeConfig.load(RuntimeConfig.from_json(example("runtime-config")).encode())
    assert config == RuntimeConfig.from_json(example("runtime-config"))


def test_unset_optional_values_stay_unset(example):
    process = RuntimeConfig.from_json(example("runtime-config-minimal")).process
    assert process is not None and process.oom_score_adj is None and process.capabilities is None


def test_a_namespace_is_found_by_type(example):
    linux = RuntimeConfig.from_json(example("runtime-config-minimal")).linux
    assert linux is not None and linux.namespace("pid") == Namespace("pid")
    assert linux.namespace("user") is None


def test_a_missing_required_field_names_its_pointer(example, broken):
    document = broken(example("runtime-config"), "/linux/namespaces/0/type")
    with pytest.raises(DocumentError, match=r"^runtime config: linux: /linux/namespaces/0/type: "):
        RuntimeConfig.from_json(document)


def test_a_value_of_the_wrong_type_names_its_pointer(example, broken):
    document = broken(example("runtime-config"), "/process/user/uid", "0")
    with pytest.raises(DocumentError, match=r"/process/user/uid: expected an integer"):
        RuntimeConfig.from_json(document)


def test_a_boolean_is_not_an_integer(example, broken):
    with pytest.raises(DocumentError, match="expected an integer"):
        RuntimeConfig.from_json(broken(example("runtime-config"), "/process/oomScoreAdj", True))


def test_the_state_example_round_trips(example):
    document = example("runtime-state")
    state = State.from_json(document)
    assert state.status is Status.RUNNING and state.to_json() == document


def test_a_state_encodes_and_loads_back(example):
    state = State.from_json(example("runtime-state"))
    assert State.load(state.encode()) == state


def test_an_unknown_status_is_a_document_error(example, broken):
    with pytest.raises(DocumentError, match="'frozen' is not one of creating, created"):
        State.from_json(broken(example("runtime-state"), "/status", "frozen"))


GUARDS = {
    #                  start  kill   delete exec   pause  resume
    Status.CREATING: (False, False, False, False, False, False),
    Status.CREATED: (True, True, False, False, False, False),
    Status.RUNNING: (False, True, False, True, True, False),
    Status.STOPPED: (False, False, True, False, False, False),
    Status.PAUSED: (False, True, False, False, False, True),
}


@pytest.mark.parametrize("status", list(Status))
def test_status_guards_follow_the_lifecycle(status):
    answers = (
        status.can_start(),
        status.can_kill(),
        status.can_delete(),
        status.can_exec(),
        status.can_pause(),
        status.can_resume(),
    )
    assert answers == GUARDS[status]
