"""The container's process (config.md "Process"), as seen from inside by the probe."""

from __future__ import annotations

import resource

import pytest

pytestmark = pytest.mark.integration

_CAPABILITY_NAMES = """
CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE
NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO
SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME
SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG
WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE
"""
CAPABILITY_BITS = {name: bit for bit, name in enumerate(_CAPABILITY_NAMES.split())}
STATUS_FIELD = {
    "bounding": "CapBnd",
    "effective": "CapEff",
    "permitted": "CapPrm",
    "inheritable": "CapInh",
    "ambient": "CapAmb",
}


def _caps(mask_hex: str) -> set[str]:
    mask = int(mask_hex, 16)
    return {f"CAP_{name}" for name, bit in CAPABILITY_BITS.items() if mask >> bit & 1}


def test_process_args_are_passed_exactly(lab):
    report = lab.probe(lab.bundle(), "--file", "/dev/null", "two words", "")
    assert report["args"] == ["/probe", "--file", "/dev/null", "two words", ""]


def test_process_env_holds_configured_variables(lab):
    """Runtimes may add HOME (runc does, from /etc/passwd); the config's entries must be there."""
    bundle = lab.bundle()
    bundle.process["env"] = ["PATH=/bin", "ONE=1", "SPACED=a b", "EMPTY="]
    env = lab.probe(bundle)["env"]
    assert [entry for entry in env if not entry.startswith("HOME=")] == bundle.process["env"]


def test_process_cwd_is_set(lab):
    bundle = lab.bundle()
    bundle.process["cwd"] = "/tmp"
    assert lab.probe(bundle)["cwd"] == "/tmp"


def test_process_user_uid_and_gid(lab):
    bundle = lab.bundle()
    bundle.process["user"] = {"uid": 1000, "gid": 1001}
    report = lab.probe(bundle)
    assert (report["uid"], report["euid"], report["gid"], report["egid"]) == (
        1000,
        1000,
        1001,
        1001,
    )


def test_process_user_additional_gids(lab):
    bundle = lab.bundle()
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20]}
    assert {10, 20} <= set(lab.probe(bundle)["groups"])


def test_process_user_umask(lab):
    bundle = lab.bundle()
    bundle.process["user"] = {"uid": 0, "gid": 0, "umask": 0o077}
    assert lab.probe(bundle)["umask"] == 0o077


def test_terminal_false_gives_no_tty(lab):
    report = lab.probe(lab.bundle())
    assert (report["stdin_tty"], report["stdout_tty"]) == (0, 0)


def test_hostname_is_set(lab):
    bundle = lab.bundle()
    bundle.config["hostname"] = "conformance-host"
    assert lab.probe(bundle)["hostname"] == "conformance-host"


def test_domainname_is_set(lab):
    bundle = lab.bundle()
    bundle.config["domainname"] = "conformance.example"
    assert lab.probe(bundle)["domainname"] == "conformance.example"


def test_rlimits_are_applied(lab):
    hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    bundle = lab.bundle()
    bundle.process["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": hard // 2, "hard": hard},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
    ]
    limits = lab.probe(bundle)["rlimits"]
    assert limits["RLIMIT_NOFILE"] == {"soft": hard // 2, "hard": hard}
    assert limits["RLIMIT_CORE"] == {"soft": 0, "hard": 0}
    assert limits["RLIMIT_NPROC"] == {"soft": 500, "hard": 600}


def test_unknown_rlimit_type_is_an_error(lab):
    bundle = lab.bundle()
    bundle.process["rlimits"] = [{"type": "RLIMIT_TEST", "soft": 1, "hard": 1}]
    assert not lab.container(bundle).create().ok


def test_rlimit_above_host_hard_limit_is_refused(lab):
    """Root here lacks CAP_SYS_RESOURCE: raising a hard limit must fail, not be ignored."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        pytest.skip("RLIMIT_NOFILE is unlimited here; nothing to exceed")
    bundle = lab.bundle()
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": hard + 1, "hard": hard + 1}]
    container = lab.container(bundle)
    if not container.create().ok or not container.start().ok:
        return  # refused with an error: what the spec asks for
    container.wait("stopped")
    limits = container.report()["rlimits"]["RLIMIT_NOFILE"]
    assert limits == {"soft": hard + 1, "hard": hard + 1}, "limit silently not applied"


@pytest.mark.parametrize("kind", list(STATUS_FIELD))
def test_capability_set_is_exact(lab, kind):
    wanted = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
    bundle = lab.bundle()
    bundle.process["capabilities"] = {name: list(wanted) for name in STATUS_FIELD}
    bundle.process["noNewPrivileges"] = False
    status = lab.probe(bundle)["status"]
    assert _caps(status[STATUS_FIELD[kind]]) == set(wanted)


def test_capabilities_absent_from_config_are_dropped(lab):
    bundle = lab.bundle()
    bundle.process["capabilities"] = {"bounding": ["CAP_KILL"], "permitted": ["CAP_KILL"]}
    status = lab.probe(bundle)["status"]
    assert _caps(status["CapBnd"]) == {"CAP_KILL"}
    assert _caps(status["CapPrm"]) == {"CAP_KILL"}
    assert _caps(status["CapInh"]) == set()
    assert _caps(status["CapAmb"]) == set()


def test_unknown_capability_is_an_error(lab):
    bundle = lab.bundle()
    bundle.process["capabilities"]["bounding"].append("CAP_TEST")
    assert not lab.container(bundle).create().ok


@pytest.mark.parametrize("enabled", [True, False])
def test_no_new_privileges_is_applied(lab, enabled):
    bundle = lab.bundle()
    bundle.process["noNewPrivileges"] = enabled
    assert lab.probe(bundle)["no_new_privs"] == int(enabled)


@pytest.mark.parametrize("score", [0, 100, 500])
def test_oom_score_adj_is_applied(lab, score):
    bundle = lab.bundle()
    bundle.process["oomScoreAdj"] = score
    assert lab.probe(bundle)["oom_score_adj"] == score


def test_io_priority_is_applied(lab):
    bundle = lab.bundle()
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    report = lab.probe(bundle)
    assert (report["ioprio_class"], report["ioprio_level"]) == (2, 6)


def test_scheduler_policy_is_applied(lab):
    bundle = lab.bundle()
    bundle.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 5}
    report = lab.probe(bundle)
    assert (report["sched_policy"], report["nice"]) == (3, 5)


def test_exec_cpu_affinity_is_applied(lab):
    bundle = lab.bundle()
    bundle.process["execCPUAffinity"] = {"initial": "0", "final": "0"}
    assert lab.probe(bundle)["cpu_affinity"] == [0]


def test_personality_is_applied(lab):
    bundle = lab.bundle()
    bundle.linux["personality"] = {"domain": "LINUX32"}
    assert lab.probe(bundle)["personality"] & 0xFF == 0x0008
