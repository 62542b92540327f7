"""Validation of seccomp profiles and the tables behind them (no kernel involved)."""

from __future__ import annotations

import errno

import pytest
from porter_runtime.seccomp import tables
from porter_runtime.seccomp.compile import validate
from porter_runtime.seccomp.errors import SeccompError


def profile(**extra):
    return {"defaultAction": "SCMP_ACT_ALLOW", **extra}


def deny(names=("mkdir",), **extra):
    return {"names": list(names), "action": "SCMP_ACT_ERRNO", **extra}


def test_errno_action_defaults_to_eperm():
    assert tables.action_value("SCMP_ACT_ERRNO", None) == tables.ACT_ERRNO | errno.EPERM


def test_errno_action_carries_errno_ret():
    assert tables.action_value("SCMP_ACT_ERRNO", errno.ENOSYS) == tables.ACT_ERRNO | 38


def test_trace_action_defaults_to_eperm_too():
    assert tables.action_value("SCMP_ACT_TRACE", None) == tables.ACT_TRACE | errno.EPERM


def test_kill_means_kill_thread():
    assert tables.action_value("SCMP_ACT_KILL", None) == tables.ACT_KILL_THREAD


def test_every_comparison_operator_has_libseccomps_value():
    assert [tables.OPS[f"SCMP_CMP_{n}"] for n in ("NE", "LT", "LE", "EQ", "GE", "GT")] == [
        1, 2, 3, 4, 5, 6,
    ]  # fmt: skip
    assert tables.OPS["SCMP_CMP_MASKED_EQ"] == 7


def test_architectures_map_to_libseccomp_names():
    assert tables.ARCHES["SCMP_ARCH_X86_64"] == "x86_64"
    assert tables.ARCHES["SCMP_ARCH_AARCH64"] == "aarch64"


def test_default_errno_ret_applies_to_the_default_action():
    default, *_ = validate({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1})
    assert default == tables.ACT_ERRNO | 1


@pytest.mark.parametrize(
    "seccomp, message",
    [
        ([], "linux.seccomp: must be an object"),
        ({}, "defaultAction: is required"),
        ({"defaultAction": "SCMP_ACT_NOPE"}, "defaultAction: unknown action 'SCMP_ACT_NOPE'"),
        (profile(defaultErrnoRet=-1), r"defaultErrnoRet: -1 is not an integer"),
        (profile(architectures=["SCMP_ARCH_VAX"]), "unknown architecture 'SCMP_ARCH_VAX'"),
        (profile(architectures="SCMP_ARCH_X86"), "architectures: must be a list"),
        (profile(flags=["SECCOMP_FILTER_FLAG_NOPE"]), "unknown flag"),
        (profile(syscalls={}), "syscalls: must be a list"),
        (profile(syscalls=[deny(names=[])]), r"syscalls\[0\]\.names: must be a non-empty"),
        (profile(syscalls=[deny(action="SCMP_ACT_X")]), r"syscalls\[0\]\.action: unknown action"),
        (profile(syscalls=[deny(errnoRet=70000)]), r"syscalls\[0\]\.errnoRet"),
        (profile(syscalls=[deny(args={})]), r"syscalls\[0\]\.args: must be a list"),
    ],
)
def test_invalid_profile_is_refused_with_what_and_why(seccomp, message):
    with pytest.raises(SeccompError, match=message):
        validate(seccomp)


@pytest.mark.parametrize(
    "arg, message",
    [
        ({"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}, r"args\[0\]\.index: 6"),
        ({"index": 0, "value": 0, "op": "SCMP_CMP_LIKE"}, r"args\[0\]\.op: unknown operator"),
        ({"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}, r"args\[0\]\.value: -1"),
        ({"index": 0, "value": 0, "valueTwo": 2**64, "op": "SCMP_CMP_EQ"}, "valueTwo"),
        ("x", r"args\[0\]: must be an object"),
    ],
)
def test_invalid_argument_condition_is_refused(arg, message):
    with pytest.raises(SeccompError, match=message):
        validate(profile(syscalls=[deny(args=[arg])]))


def test_notify_needs_a_listener_path():
    rule = {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}
    with pytest.raises(SeccompError, match="listenerPath: is required"):
        validate(profile(syscalls=[rule]))


def test_notify_cannot_be_the_default():
    with pytest.raises(SeccompError, match="cannot be the default"):
        validate({"defaultAction": "SCMP_ACT_NOTIFY", "listenerPath": "/x"})


def test_notify_asks_the_kernel_for_a_listener():
    rule = {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}
    *_, flags, _ = validate(profile(syscalls=[rule], listenerPath="/run/agent.sock"))
    assert flags & tables.FLAG_NEW_LISTENER


def test_tsync_with_notify_adds_tsync_esrch():
    rule = {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}
    seccomp = profile(syscalls=[rule], listenerPath="/a", flags=["SECCOMP_FILTER_FLAG_TSYNC"])
    *_, flags, _ = validate(seccomp)
    assert flags & tables.FLAG_TSYNC_ESRCH


def test_wait_killable_recv_is_dropped_without_a_listener():
    *_, flags, _ = validate(profile(flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]))
    assert flags == 0


def test_spec_flags_become_seccomp_flag_bits():
    names = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]
    *_, flags, _ = validate(profile(flags=names))
    assert flags == tables.FLAG_LOG | tables.FLAG_SPEC_ALLOW
