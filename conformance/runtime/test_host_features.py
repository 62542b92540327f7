"""The probes the checks skip by: each answers from the mounts or folders it is given, so a
host without a feature is simulated by a fake cgroup hierarchy, namespace folder or PATH."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conformance.runtime.host_features import (
    missing_cgroup_file,
    missing_controller,
    missing_file,
    missing_freezer,
    missing_namespace,
    missing_program,
    needs,
    root_block_device,
)


@pytest.fixture
def hybrid(tmp_path: Path) -> dict[str, Path]:
    """A fake hybrid host: a v1 blkio hierarchy with the throttle files but no weight (a
    kernel without BFQ), and a unified hierarchy with the pids controller enabled."""
    blkio, unified = tmp_path / "blkio", tmp_path / "unified"
    blkio.mkdir()
    unified.mkdir()
    (blkio / "blkio.throttle.read_bps_device").write_text("")
    (unified / "cgroup.controllers").write_text("pids\n")
    return {"blkio": blkio, "": unified}


def test_a_controller_in_neither_hierarchy_is_missing(hybrid):
    assert missing_controller("blkio", "hugetlb", mounts=hybrid) == (
        "no cgroup hugetlb controller on this host"
    )


def test_a_controller_with_a_v1_hierarchy_is_present(hybrid):
    assert missing_controller("blkio", mounts=hybrid) is None


def test_a_controller_enabled_in_the_unified_hierarchy_is_present(hybrid):
    assert missing_controller("pids", mounts=hybrid) is None


def test_a_cgroup_file_the_hierarchy_lacks_is_missing_and_named(hybrid):
    reason = missing_cgroup_file("blkio", "blkio.weight", mounts=hybrid)
    assert reason == "the blkio cgroup has no blkio.weight on this host"


def test_a_cgroup_file_the_hierarchy_has_is_present(hybrid):
    name = "blkio.throttle.read_bps_device"
    assert missing_cgroup_file("blkio", name, mounts=hybrid) is None


def test_either_of_two_alternative_cgroup_files_satisfies(hybrid):
    (hybrid["blkio"] / "blkio.bfq.weight").write_text("100")
    assert missing_cgroup_file("blkio", "blkio.weight|blkio.bfq.weight", mounts=hybrid) is None


def test_a_cgroup_file_of_a_controller_without_v1_hierarchy_is_missing(hybrid):
    reason = missing_cgroup_file("memory", "memory.memsw.limit_in_bytes", mounts=hybrid)
    assert reason == "no cgroup v1 memory hierarchy on this host"


def test_a_host_without_v1_freezer_or_cgroup_freeze_cannot_freeze(hybrid):
    (hybrid[""] / "porter").mkdir()
    assert missing_freezer(mounts=hybrid) is not None


def test_a_v1_freezer_hierarchy_can_freeze(hybrid, tmp_path: Path):
    assert missing_freezer(mounts={**hybrid, "freezer": tmp_path / "freezer"}) is None


def test_cgroup_freeze_in_the_unified_hierarchy_can_freeze(hybrid):
    (hybrid[""] / "porter").mkdir()
    (hybrid[""] / "porter" / "cgroup.freeze").write_text("0")
    assert missing_freezer(mounts=hybrid) is None


def test_a_namespace_kind_the_kernel_lacks_is_missing(tmp_path: Path):
    assert missing_namespace("time", tmp_path) == "the kernel has no time namespace"


def test_a_namespace_kind_the_kernel_has_is_present(tmp_path: Path):
    (tmp_path / "time").write_text("")
    assert missing_namespace("time", tmp_path) is None


def test_a_program_not_on_the_path_is_missing(tmp_path: Path):
    assert missing_program("gcc", path=str(tmp_path)) == "gcc is not installed"


def test_a_host_file_that_is_absent_is_missing(tmp_path: Path):
    absent = tmp_path / "busybox"
    assert missing_file(absent, "busybox-static") == f"busybox-static is missing ({absent})"


def test_the_disk_holding_a_partition_is_its_whole_disk(tmp_path: Path):
    device = os.stat(tmp_path).st_dev
    (tmp_path / f"{os.major(device)}:0").mkdir()
    assert root_block_device(tmp_path, sys_block=tmp_path) == (os.major(device), 0)


def test_a_file_system_on_no_block_device_has_none(tmp_path: Path):
    empty = tmp_path / "block"
    empty.mkdir()
    assert root_block_device(tmp_path, sys_block=empty) is None


def test_needs_skips_with_the_probes_reason():
    marker = needs("the kernel has no time namespace")
    assert (marker.args, marker.kwargs["reason"]) == ((True,), "the kernel has no time namespace")


def test_needs_runs_the_check_when_the_probe_found_the_feature():
    assert needs(None).args == (False,)
