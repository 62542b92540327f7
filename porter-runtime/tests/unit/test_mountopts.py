"""Mount options split into flags, propagation, recursive attributes and data."""

from porter_runtime import mountopts
from porter_runtime import syscalls as sc


def test_flag_options_set_their_flags():
    opts = mountopts.parse(["nosuid", "nodev", "noexec", "ro"])
    assert opts.flags == sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC | sc.MS_RDONLY


def test_later_option_clears_an_earlier_flag():
    assert mountopts.parse(["ro", "rw"]).flags == 0
    assert mountopts.parse(["nosuid", "suid"]).flags == 0


def test_rbind_is_a_recursive_bind():
    assert mountopts.parse(["rbind"]).flags == sc.MS_BIND | sc.MS_REC


def test_unknown_options_become_the_data_string_in_order():
    opts = mountopts.parse(["nosuid", "mode=755", "size=65536k"])
    assert opts.data == "mode=755,size=65536k"
    assert opts.flags == sc.MS_NOSUID


def test_propagation_is_kept_apart_from_flags():
    opts = mountopts.parse(["rbind", "rslave", "private"])
    assert opts.propagation == [sc.MS_SLAVE | sc.MS_REC, sc.MS_PRIVATE]
    assert not opts.flags & sc.PROPAGATION_FLAGS


def test_recursive_options_become_mount_setattr_attributes():
    opts = mountopts.parse(["rro", "rnosuid", "rnoexec"])
    assert opts.attr_set == sc.MOUNT_ATTR_RDONLY | sc.MOUNT_ATTR_NOSUID | sc.MOUNT_ATTR_NOEXEC
    assert opts.flags == 0


def test_recursive_clear_options_clear_attributes():
    opts = mountopts.parse(["rrw", "rsuid"])
    assert opts.attr_clear & sc.MOUNT_ATTR_RDONLY
    assert opts.attr_clear & sc.MOUNT_ATTR_NOSUID
    assert opts.attr_set == 0


def test_runtime_extensions_are_not_passed_to_the_kernel():
    opts = mountopts.parse(["tmpcopyup", "mode=755"])
    assert opts.extensions == frozenset({"tmpcopyup"})
    assert opts.data == "mode=755"


def test_defaults_sets_nothing():
    assert mountopts.parse(["defaults"]).flags == 0
