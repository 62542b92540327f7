"""The default seccomp profile as the runtime-spec `linux.seccomp` a container gets: an
allow-list like docker's, with syscalls given back per capability and conditions on the
arguments of clone, personality and socket."""

from __future__ import annotations

from typing import Any

import pytest
from porterd.containers import seccomp as converter
from porterd.containers.seccomp import profile_to_oci
from porterd.containers.seccomp_default import default_profile
from porterd.containers.seccomp_syscalls import ALLOWED, ALLOWED_ON_ARCH, ALLOWED_WITH_CAP
from porterd.containers.spec import DEFAULT_CAPABILITIES

NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET


@pytest.fixture(autouse=True)
def x86_64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(converter.platform, "machine", lambda: "x86_64")


def seccomp_for(*caps: str) -> dict[str, Any]:
    return profile_to_oci(default_profile(), [*DEFAULT_CAPABILITIES, *caps])


def rules_for(seccomp: dict[str, Any], syscall: str) -> list[dict[str, Any]]:
    return [rule for rule in seccomp["syscalls"] if syscall in rule["names"]]


def allowed_always(seccomp: dict[str, Any], syscall: str) -> bool:
    return any(
        rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
        for rule in rules_for(seccomp, syscall)
    )


def test_a_syscall_no_rule_names_fails_with_eperm() -> None:
    seccomp = seccomp_for()
    assert (seccomp["defaultAction"], seccomp["defaultErrnoRet"]) == ("SCMP_ACT_ERRNO", 1)


def test_the_architectures_are_the_machine_s_with_its_sub_architectures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert seccomp_for()["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    monkeypatch.setattr(converter.platform, "machine", lambda: "aarch64")
    assert seccomp_for()["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]


@pytest.mark.parametrize(
    "syscall",
    ["read", "write", "openat", "execve", "wait4", "socketpair", "connect", "sendto",
     "setresuid", "capset", "prctl", "rt_sigtimedwait", "chroot", "ptrace", "statx", "getrandom"],
)  # fmt: skip
def test_a_syscall_programs_normally_use_is_allowed(syscall: str) -> None:
    assert allowed_always(seccomp_for(), syscall)


@pytest.mark.parametrize(
    "syscall",
    ["keyctl", "add_key", "request_key", "mount", "umount2", "unshare", "setns", "swapon",
     "reboot", "acct", "kexec_load", "init_module", "settimeofday", "syslog", "open_by_handle_at",
     "io_uring_setup", "userfaultfd", "bpf", "kcmp", "iopl", "mbind", "vhangup"],
)  # fmt: skip
def test_a_syscall_outside_the_allow_list_has_no_rule(syscall: str) -> None:
    assert rules_for(seccomp_for(), syscall) == []


@pytest.mark.parametrize(
    ("cap", "syscall"),
    [("CAP_SYS_ADMIN", "mount"), ("CAP_SYS_ADMIN", "unshare"), ("CAP_SYS_ADMIN", "setns"),
     ("CAP_SYS_BOOT", "reboot"), ("CAP_SYS_PACCT", "acct"), ("CAP_SYS_MODULE", "init_module"),
     ("CAP_SYS_TIME", "settimeofday"), ("CAP_SYSLOG", "syslog"), ("CAP_SYS_NICE", "mbind"),
     ("CAP_SYS_RAWIO", "iopl"), ("CAP_SYS_PTRACE", "kcmp"), ("CAP_BPF", "bpf"),
     ("CAP_DAC_READ_SEARCH", "open_by_handle_at"), ("CAP_SYS_TTY_CONFIG", "vhangup")],
)  # fmt: skip
def test_an_added_capability_gives_back_its_syscalls(cap: str, syscall: str) -> None:
    assert not allowed_always(seccomp_for(), syscall)
    assert allowed_always(seccomp_for(cap), syscall)


def test_swapon_stays_refused_even_with_sys_admin() -> None:
    assert rules_for(seccomp_for("CAP_SYS_ADMIN"), "swapon") == []


def test_clone_without_sys_admin_is_allowed_only_without_namespace_flags() -> None:
    [rule] = rules_for(seccomp_for(), "clone")
    assert rule["action"] == "SCMP_ACT_ALLOW"
    assert rule["args"] == [
        {"index": 0, "value": NAMESPACE_FLAGS, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}
    ]


def test_clone3_fails_with_enosys_so_the_c_library_falls_back_to_clone() -> None:
    [rule] = rules_for(seccomp_for(), "clone3")
    assert (rule["action"], rule["errnoRet"]) == ("SCMP_ACT_ERRNO", 38)


def test_sys_admin_allows_clone_and_clone3_with_any_flags() -> None:
    seccomp = seccomp_for("CAP_SYS_ADMIN")
    assert rules_for(seccomp, "clone") == rules_for(seccomp, "clone3")
    assert allowed_always(seccomp, "clone") and len(rules_for(seccomp, "clone")) == 1


def test_personality_is_allowed_only_for_docker_s_personas() -> None:
    rules = rules_for(seccomp_for(), "personality")
    assert {rule["action"] for rule in rules} == {"SCMP_ACT_ALLOW"}
    conditions = [(arg["index"], arg["op"], arg["value"]) for r in rules for arg in r["args"]]
    personas = [0x0, 0x8, 0x20000, 0x20008, 0xFFFFFFFF]
    assert conditions == [(0, "SCMP_CMP_EQ", persona) for persona in personas]


def test_socket_is_allowed_for_every_family_but_vsock() -> None:
    [rule] = rules_for(seccomp_for(), "socket")
    assert rule["action"] == "SCMP_ACT_ALLOW"
    assert rule["args"] == [{"index": 0, "value": 40, "valueTwo": 0, "op": "SCMP_CMP_NE"}]


def test_an_architecture_s_own_syscalls_are_allowed_only_there(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert allowed_always(seccomp_for(), "arch_prctl")
    assert rules_for(seccomp_for(), "set_tls") == []
    monkeypatch.setattr(converter.platform, "machine", lambda: "aarch64")
    assert allowed_always(seccomp_for(), "set_tls")
    assert rules_for(seccomp_for(), "arch_prctl") == []


def test_no_syscall_is_both_always_allowed_and_tied_to_a_capability_or_architecture() -> None:
    tied = set().union(*ALLOWED_WITH_CAP.values(), *ALLOWED_ON_ARCH.values())
    assert ALLOWED & tied == set()
    assert {"clone", "clone3", "personality", "socket"} & (ALLOWED | tied) == set()
