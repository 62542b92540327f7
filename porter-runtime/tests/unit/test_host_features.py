"""The probes the tests skip by: each one answers from the folders it is given, so a host
that lacks a feature is simulated by a fake cgroup hierarchy, namespace folder or PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from host_features import (
    kernel_version,
    missing_file,
    missing_kernel,
    missing_namespace,
    missing_program,
    missing_seccomp_action,
    missing_v1_controller,
    missing_v1_file,
    needs,
)


@pytest.fixture
def blkio_without_weight(tmp_path: Path) -> dict[str, str]:
    """A fake v1 blkio hierarchy as a kernel without BFQ offers it: throttle files only."""
    root = tmp_path / "blkio"
    root.mkdir()
    for name in ("blkio.throttle.read_bps_device", "cgroup.procs"):
        (root / name).write_text("")
    return {"blkio": str(root)}


def test_a_controller_without_a_hierarchy_is_missing(blkio_without_weight):
    reason = missing_v1_controller("blkio", "hugetlb", mounts=blkio_without_weight)
    assert reason == "no cgroup v1 hugetlb hierarchy on this host"


def test_a_mounted_controller_is_present(blkio_without_weight):
    assert missing_v1_controller("blkio", mounts=blkio_without_weight) is None


def test_a_file_the_hierarchy_lacks_is_missing_and_named(blkio_without_weight):
    reason = missing_v1_file("blkio", "blkio.weight", mounts=blkio_without_weight)
    assert reason is not None and "blkio.weight" in reason


def test_a_file_the_hierarchy_has_is_present(blkio_without_weight):
    name = "blkio.throttle.read_bps_device"
    assert missing_v1_file("blkio", name, mounts=blkio_without_weight) is None


def test_either_of_two_alternative_files_satisfies(blkio_without_weight):
    Path(blkio_without_weight["blkio"], "blkio.bfq.weight").write_text("100")
    weight = "blkio.weight|blkio.bfq.weight"
    assert missing_v1_file("blkio", weight, mounts=blkio_without_weight) is None


def test_a_file_of_an_unmounted_controller_is_missing(blkio_without_weight):
    reason = missing_v1_file("net_cls", "net_cls.classid", mounts=blkio_without_weight)
    assert reason == "no cgroup v1 net_cls hierarchy on this host"


def test_a_namespace_kind_the_kernel_lacks_is_missing(tmp_path: Path):
    (tmp_path / "mnt").write_text("")
    assert "no time namespace" in (missing_namespace("time", str(tmp_path)) or "")


def test_a_namespace_kind_the_kernel_has_is_present(tmp_path: Path):
    (tmp_path / "mnt").write_text("")
    assert missing_namespace("mnt", str(tmp_path)) is None


def test_a_program_not_on_the_path_is_missing(tmp_path: Path):
    program = tmp_path / "peer"
    program.write_text("#!/bin/sh\n")
    assert missing_program("peer", path=str(tmp_path)) == "peer is not installed"
    os.chmod(program, 0o755)
    assert missing_program("peer", path=str(tmp_path)) is None


def test_a_seccomp_action_the_kernel_lacks_is_missing(tmp_path: Path):
    actions = tmp_path / "actions_avail"
    actions.write_text("kill_process kill_thread trap errno trace allow\n")
    reason = missing_seccomp_action("user_notif", str(actions))
    assert reason == "the kernel's seccomp has no user_notif action"


def test_a_seccomp_action_the_kernel_lists_is_present(tmp_path: Path):
    actions = tmp_path / "actions_avail"
    actions.write_text("kill_process errno user_notif log allow\n")
    assert missing_seccomp_action("user_notif", str(actions)) is None


def test_a_kernel_without_seccomp_lacks_every_action(tmp_path: Path):
    reason = missing_seccomp_action("errno", str(tmp_path / "absent"))
    assert reason is not None and "no seccomp" in reason


def test_a_host_file_that_is_absent_is_missing(tmp_path: Path):
    keys = str(tmp_path / "keys")
    assert missing_file(keys, "key management") == f"key management is missing here ({keys})"


def test_the_kernel_version_is_read_from_a_distribution_release_string():
    assert kernel_version("6.18.44-fc-v1300") == (6, 18)


def test_a_kernel_older_than_the_feature_is_missing_it():
    reason = missing_kernel((5, 7), "clone3 with CLONE_INTO_CGROUP", release="5.4.0-150-generic")
    assert reason == "clone3 with CLONE_INTO_CGROUP needs Linux 5.7; this is 5.4"


def test_a_kernel_as_new_as_the_feature_has_it():
    assert missing_kernel((5, 7), "clone3", release="5.7.0") is None


def test_needs_skips_with_the_probes_reason():
    marker = needs("no cgroup v1 rdma hierarchy on this host")
    assert marker.args == (True,)
    assert marker.kwargs["reason"] == "no cgroup v1 rdma hierarchy on this host"


def test_needs_runs_the_test_when_the_probe_found_the_feature():
    assert needs(None).args == (False,)
