"""Compiling profiles to BPF with libseccomp (the library, not the kernel)."""

from __future__ import annotations

import pickle

import pytest
from porter_runtime.seccomp import SeccompError, SeccompProgram, compile_seccomp, install_seccomp


def _libseccomp_loads() -> bool:
    try:
        from porter_runtime.seccomp.libseccomp import library

        library()
        return True
    except SeccompError:
        return False


pytestmark = pytest.mark.skipif(not _libseccomp_loads(), reason="libseccomp.so.2 not installed")

DENY_MKDIR = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}


def test_program_is_whole_sock_filter_instructions():
    program = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]})
    assert program.bpf and len(program.bpf) % 8 == 0


def test_program_survives_pickling_for_the_trip_to_the_container_init():
    program = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]})
    assert pickle.loads(pickle.dumps(program)) == program


def test_unknown_syscall_names_are_skipped():
    rule = {"names": ["no_such_syscall_at_all"], "action": "SCMP_ACT_ERRNO"}
    with_unknown = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]})
    empty = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW"})
    assert with_unknown.bpf == empty.bpf


def test_rule_with_the_default_action_is_skipped():
    rule = {"names": ["mkdir"], "action": "SCMP_ACT_ALLOW"}
    program = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]})
    assert program.bpf == compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW"}).bpf


def test_more_architectures_make_a_longer_filter():
    one = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [DENY_MKDIR]})
    arches = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"]
    three = compile_seccomp(
        {"defaultAction": "SCMP_ACT_ALLOW", "architectures": arches, "syscalls": [DENY_MKDIR]}
    )
    assert len(three.bpf) > len(one.bpf)


def test_conditions_on_one_argument_compile_as_alternatives():
    args = [
        {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
        {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
    ]
    rule = {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "args": args}
    program = compile_seccomp({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [rule]})
    assert isinstance(program, SeccompProgram)


def test_notify_program_remembers_its_listener():
    rule = {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}
    program = compile_seccomp(
        {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": "/run/agent.sock",
            "listenerMetadata": "m",
            "syscalls": [rule],
        }
    )
    assert (program.listener_path, program.listener_metadata) == ("/run/agent.sock", "m")
    assert program.uses_notify


def test_truncated_program_is_refused_before_reaching_the_kernel():
    with pytest.raises(SeccompError, match="install: the compiled filter is empty or truncated"):
        install_seccomp(SeccompProgram(bpf=b"\x06\x00", flags=0))
