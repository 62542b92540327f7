"""cgroupsPath resolution and discovery of the host's cgroup mounts."""

from __future__ import annotations

import pytest
from porter_runtime.cgroups.base import CgroupError
from porter_runtime.cgroups.paths import (
    cgroup2_mount,
    expand_slice,
    is_unified,
    own_cgroups,
    resolve,
    v1_mounts,
    visible_mounts,
)


def test_absent_path_defaults_under_porter_runtime():
    assert resolve(None, "abc") == "/porter-runtime/abc"


def test_absolute_path_is_kept_and_normalised():
    assert resolve("/a//b/./c", "id", own="/elsewhere") == "/a/b/c"


def test_relative_path_joins_the_runtimes_own_cgroup():
    assert resolve("ctr/abc", "id", own="/user.slice/session-1.scope") == (
        "/user.slice/session-1.scope/ctr/abc"
    )


def test_relative_path_cannot_climb_above_the_root():
    assert resolve("../../../x", "id", own="/a") == "/x"


def test_path_resolving_to_the_root_is_refused():
    with pytest.raises(CgroupError, match="root cgroup"):
        resolve("/", "id")


def test_systemd_syntax_maps_to_a_scope_under_the_slice():
    assert resolve("system.slice:porter:abc", "id") == "/system.slice/porter-abc.scope"


def test_systemd_syntax_nests_dashed_slices():
    assert resolve("machine-porter.slice:p:abc", "id") == (
        "/machine.slice/machine-porter.slice/p-abc.scope"
    )


def test_systemd_syntax_with_empty_slice_uses_system_slice():
    assert resolve(":porter:abc", "id") == "/system.slice/porter-abc.scope"


def test_systemd_syntax_with_empty_name_uses_the_container_id():
    assert resolve("system.slice:porter:", "ctr1") == "/system.slice/porter-ctr1.scope"


def test_systemd_syntax_naming_a_slice_makes_a_slice():
    assert resolve("system.slice::sub.slice", "id") == "/system.slice/sub.slice"


def test_root_slice_expands_to_nothing():
    assert expand_slice("-.slice") == ""


@pytest.mark.parametrize("bad", ["system", "a--b.slice", "-a.slice", "a/b.slice"])
def test_invalid_slice_names_are_refused(bad):
    with pytest.raises(CgroupError, match="slice"):
        expand_slice(bad)


def test_one_colon_is_neither_a_path_nor_systemd_syntax():
    with pytest.raises(CgroupError, match="slice:prefix:name"):
        resolve("system.slice:abc", "id")


def test_own_cgroups_reads_every_hierarchy_and_the_unified_one(tmp_path):
    proc = tmp_path / "cgroup"
    proc.write_text("4:memory:/m/x\n2:cpu,cpuacct:/c\n1:name=systemd:/s\n0::/u\n")
    assert own_cgroups(str(proc)) == {
        "memory": "/m/x",
        "cpu": "/c",
        "cpuacct": "/c",
        "name=systemd": "/s",
        "": "/u",
    }


MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 31 0:32 /sub /mnt/memsub rw,relatime - cgroup cgroup rw,memory
"""


def test_v1_mounts_maps_co_mounted_controllers_and_named_hierarchies(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO)
    mounts = v1_mounts(visible_mounts(str(info)))
    assert mounts["cpu"] == mounts["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct"
    assert mounts["memory"] == "/sys/fs/cgroup/memory"
    assert mounts["name=systemd"] == "/sys/fs/cgroup/systemd"
    assert "xattr" not in mounts and "rw" not in mounts


def test_v1_mounts_includes_the_unified_hierarchy_of_a_hybrid_host(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO)
    assert v1_mounts(visible_mounts(str(info)))[""] == "/sys/fs/cgroup/unified"


def test_v1_mounts_ignores_a_pure_v2_host(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text("41 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")
    assert v1_mounts(visible_mounts(str(info))) == {}


def test_cgroup2_mount_finds_the_unified_root(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO)
    assert cgroup2_mount(visible_mounts(str(info))) == "/sys/fs/cgroup/unified"


def test_cgroup2_mount_is_none_without_cgroup2(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO.replace("cgroup2", "tmpfs"))
    assert cgroup2_mount(visible_mounts(str(info))) is None


# a cgroup2 mounted over a hybrid host's tmpfs (what the v2 host view of the tests does)
STACKED = MOUNTINFO + "60 31 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"


def test_a_mount_stacked_over_another_hides_it_and_what_is_mounted_below_it(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(STACKED)
    visible = visible_mounts(str(info))
    assert [(m.point, m.fstype) for m in visible] == [("/sys/fs/cgroup", "cgroup2")]


def test_is_unified_looks_at_the_mount_on_top(tmp_path):
    info = tmp_path / "mountinfo"
    info.write_text(MOUNTINFO)
    assert not is_unified(mounts=visible_mounts(str(info)))
    info.write_text(STACKED)
    assert is_unified(mounts=visible_mounts(str(info)))
    assert cgroup2_mount(visible_mounts(str(info))) == "/sys/fs/cgroup"
    assert v1_mounts(visible_mounts(str(info))) == {}


def test_unreadable_mountinfo_is_no_mounts(tmp_path):
    assert visible_mounts(str(tmp_path / "absent")) == []
