"""seccomp filters and sysctls (config-linux.md "Seccomp", "Sysctl")."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

# What runc's init, a Go program, and the probe need between seccomp and exit.
ALLOW_LIST = """
read write openat open close fstat newfstatat stat lstat lseek mmap munmap brk  execve exit
exit_group arch_prctl set_tid_address set_robust_list rseq prlimit64  getrlimit getuid getgid
geteuid getegid getgroups getpid getppid umask getcwd  ioctl readlink readlinkat prctl
ioprio_get sched_getscheduler sched_getparam  getpriority sched_getaffinity personality
getdents64 futex mprotect  fcntl rt_sigaction rt_sigprocmask rt_sigreturn sigaltstack getrandom
capget capset  setgroups setuid setgid setresuid setresgid fchown chdir access faccessat
faccessat2  statx nanosleep close_range dup dup2 dup3 pipe2 epoll_wait epoll_pwait epoll_ctl
epoll_create1 sched_yield gettid tgkill tkill clone clone3 madvise pselect6 select  fchdir wait4
waitid kill mincore membarrier write writev keyctl fstatfs statfs uname
"""
ARCHES = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]


def _seccomp(bundle, *rules: dict, default: str = "SCMP_ACT_ALLOW") -> None:
    bundle.linux["seccomp"] = {
        "defaultAction": default,
        "architectures": ARCHES,
        "syscalls": list(rules),
    }


def test_seccomp_filter_is_installed(lab):
    bundle = lab.bundle()
    _seccomp(bundle, {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"})
    assert lab.probe(bundle)["status"]["Seccomp"] == "2"


def test_seccomp_errno_action_defaults_to_eperm(lab):
    bundle = lab.bundle()
    _seccomp(bundle, {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"})
    assert lab.probe(bundle, "--syscall", "mkdir")["syscall"]["mkdir"] == errno.EPERM


def test_seccomp_errno_ret_is_returned(lab):
    bundle = lab.bundle()
    _seccomp(bundle, {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EXDEV})
    assert lab.probe(bundle, "--syscall", "getcwd")["syscall"]["getcwd"] == errno.EXDEV


def test_seccomp_leaves_other_syscalls_alone(lab):
    bundle = lab.bundle()
    _seccomp(bundle, {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"})
    report = lab.probe(bundle, "--syscall", "getcwd", "--syscall", "chdir")
    assert report["syscall"] == {"getcwd": 0, "chdir": 0}


def test_seccomp_argument_condition_matches(lab):
    bundle = lab.bundle()
    condition = {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}
    _seccomp(bundle, {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "args": [condition]})
    assert lab.probe(bundle, "--syscall", "unshare")["syscall"]["unshare"] == errno.EPERM


def test_seccomp_argument_condition_does_not_match(lab):
    bundle = lab.bundle()
    condition = {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}
    _seccomp(bundle, {"names": ["unshare"], "action": "SCMP_ACT_ERRNO", "args": [condition]})
    assert lab.probe(bundle, "--syscall", "unshare")["syscall"]["unshare"] == 0


def test_seccomp_default_errno_with_allow_list(lab):
    """An allow-list profile: what the runtime and the probe need is allowed, mkdir is not."""
    bundle = lab.bundle()
    allowed = ALLOW_LIST.split()
    _seccomp(
        bundle,
        {"names": allowed, "action": "SCMP_ACT_ALLOW"},
        default="SCMP_ACT_ERRNO",
    )
    bundle.process["capabilities"] = {}
    report = lab.probe(bundle, "--syscall", "mkdir", "--syscall", "getpid")
    assert report["syscall"] == {"mkdir": errno.EPERM, "getpid": 0}


def test_seccomp_unknown_action_is_an_error(lab):
    bundle = lab.bundle()
    _seccomp(bundle, {"names": ["mkdir"], "action": "SCMP_ACT_NO_SUCH_ACTION"})
    assert not lab.container(bundle).create().ok


NAMESPACED_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.ping_group_range": "0 2147483647",
    "kernel.shmmni": "2048",
    "kernel.msgmax": "4096",
}


@pytest.mark.parametrize("name", list(NAMESPACED_SYSCTLS))
def test_sysctl_is_applied_in_container(lab, name):
    bundle = lab.bundle()
    bundle.linux["sysctl"] = {name: NAMESPACED_SYSCTLS[name]}
    got = lab.probe(bundle, "--sysctl", name)["sysctl"][name]
    assert got.split() == NAMESPACED_SYSCTLS[name].split()


def test_sysctl_does_not_change_host(lab):
    host_file = Path("/proc/sys/kernel/shmmni")
    before = host_file.read_text()
    bundle = lab.bundle()
    bundle.linux["sysctl"] = {"kernel.shmmni": "1234" if before.strip() != "1234" else "1235"}
    lab.probe(bundle)
    assert host_file.read_text() == before
