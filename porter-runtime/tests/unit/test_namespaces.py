"""Namespace plans: new ones as one unshare flag set, joined ones in a safe order."""

import pytest
from porter_runtime import syscalls as sc
from porter_runtime.errors import ConfigError
from porter_runtime.namespaces import NamespacePlan, id_map_text


def test_new_namespaces_become_one_flag_set():
    plan = NamespacePlan([{"type": "pid"}, {"type": "mount"}, {"type": "uts"}])
    assert plan.new == sc.CLONE_NEWPID | sc.CLONE_NEWNS | sc.CLONE_NEWUTS
    assert plan.join == []


def test_joined_namespaces_keep_user_first_and_mount_last():
    plan = NamespacePlan(
        [
            {"type": "mount", "path": "/m"},
            {"type": "network", "path": "/n"},
            {"type": "user", "path": "/u"},
        ]
    )
    assert [k for k, _ in plan.join] == ["user", "network", "mount"]
    assert plan.new == 0


def test_unknown_namespace_type_is_an_error():
    with pytest.raises(ConfigError, match="unknown type"):
        NamespacePlan([{"type": "pidd"}])


def test_a_type_listed_twice_is_an_error():
    with pytest.raises(ConfigError, match="more than once"):
        NamespacePlan([{"type": "pid"}, {"type": "pid"}])


def test_missing_join_path_is_an_error():
    with pytest.raises(ConfigError, match="does not exist"):
        NamespacePlan([{"type": "network", "path": "/nonexistent/ns"}]).check_paths()


def test_id_mappings_are_written_one_per_line():
    text = id_map_text(
        [
            {"containerID": 0, "hostID": 1000, "size": 1},
            {"containerID": 1, "hostID": 100000, "size": 65536},
        ]
    )
    assert text == "0 1000 1\n1 100000 65536\n"
