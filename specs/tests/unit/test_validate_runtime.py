"""Broken runtime-spec documents (config.json, state) are refused with pointers."""

from __future__ import annotations

import pytest
from porter_specs.validate import Problem, problems

ABSOLUTE = "must be an absolute path"
REQUIRED = "required field is missing"

# id: (pointer to change, new value or None to delete, expected pointer, expected message)
BROKEN_CONFIGS = {
    "no-oci-version": ("/ociVersion", None, "/ociVersion", REQUIRED),
    "oci-version-not-semver": (
        "/ociVersion",
        "1.2",
        "/ociVersion",
        "must be a SemVer 2.0.0 version",
    ),
    "no-root-on-linux": ("/root", None, "/root", REQUIRED),
    "relative-cwd": ("/process/cwd", "root", "/process/cwd", ABSOLUTE),
    "empty-args": ("/process/args", [], "/process/args", "must have at least 1 entry"),
    "user-without-uid": (
        "/process/user/uid",
        None,
        "/process/user",
        "must have uid and gid (or username, on Windows)",
    ),
    "capability-without-prefix": (
        "/process/capabilities/bounding/0",
        "KILL",
        "/process/capabilities/bounding/0",
        "must be a capability name such as CAP_CHOWN",
    ),
    "duplicate-rlimit": (
        "/process/rlimits/1/type",
        "RLIMIT_CORE",
        "/process/rlimits/1/type",
        "repeats rlimit RLIMIT_CORE of /process/rlimits/0",
    ),
    "io-priority-out-of-range": (
        "/process/ioPriority/priority",
        8,
        "/process/ioPriority/priority",
        "must be at most 7",
    ),
    "env-entry-without-equals": ("/process/env/1", "TERM", "/process/env/1", "must be NAME=value"),
    "relative-hook-path": (
        "/hooks/prestart/0/path",
        "fix-mounts",
        "/hooks/prestart/0/path",
        ABSOLUTE,
    ),
    "zero-hook-timeout": (
        "/hooks/poststart/0/timeout",
        0,
        "/hooks/poststart/0/timeout",
        "must be greater than 0",
    ),
    "duplicate-namespace": (
        "/linux/namespaces/1/type",
        "pid",
        "/linux/namespaces/1/type",
        "repeats namespace type pid of /linux/namespaces/0",
    ),
    "unknown-namespace-type": (
        "/linux/namespaces/0/type",
        "pids",
        "/linux/namespaces/0/type",
        'must be one of "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"',
    ),
    "char-device-without-major": (
        "/linux/devices/0/major",
        None,
        "/linux/devices/0/major",
        REQUIRED,
    ),
    "swap-below-memory-limit": (
        "/linux/resources/memory/swap",
        1,
        "/linux/resources/memory/swap",
        "must be at least limit (536870912): swap counts memory too",
    ),
    "pids-without-limit": (
        "/linux/resources/pids/limit",
        None,
        "/linux/resources/pids/limit",
        REQUIRED,
    ),
    "hugepage-size-without-unit": (
        "/linux/resources/hugepageLimits/0/pageSize",
        "2M",
        "/linux/resources/hugepageLimits/0/pageSize",
        "must be a page size such as 64KB, 2MB or 1GB",
    ),
    "weight-device-without-weight": (
        "/linux/resources/blockIO/weightDevice/1/weight",
        None,
        "/linux/resources/blockIO/weightDevice/1",
        "must set weight or leafWeight",
    ),
    "cpu-burst-above-quota": (
        "/linux/resources/cpu/burst",
        2000000,
        "/linux/resources/cpu/burst",
        "must not exceed quota (1000000)",
    ),
    "device-access-beyond-rwm": (
        "/linux/resources/devices/0/access",
        "rwx",
        "/linux/resources/devices/0/access",
        "must be a composition of r, w and m",
    ),
    "seccomp-rule-without-names": (
        "/linux/seccomp/syscalls/0/names",
        [],
        "/linux/seccomp/syscalls/0/names",
        "must have at least 1 entry",
    ),
    "rootfs-propagation-unknown": (
        "/linux/rootfsPropagation",
        "rslave",
        "/linux/rootfsPropagation",
        'must be one of "shared", "slave", "private", "unbindable"',
    ),
    "relative-masked-path": (
        "/linux/maskedPaths/0",
        "proc/kcore",
        "/linux/maskedPaths/0",
        ABSOLUTE,
    ),
    "mem-bw-schema-without-prefix": (
        "/linux/intelRdt",
        {"memBwSchema": "L3:0=7f0"},
        "/linux/intelRdt/memBwSchema",
        "must start with MB: and hold no newline",
    ),
    "sysctl-value-not-a-string": (
        "/linux/sysctl/net.core.somaxconn",
        256,
        "/linux/sysctl/net.core.somaxconn",
        "must be a string, not integer",
    ),
    "mount-uid-mappings-without-gid-mappings": (
        "/mounts/0/uidMappings",
        [{"containerID": 0, "hostID": 1000, "size": 1}],
        "/mounts/0/gidMappings",
        "required when 'uidMappings' is set",
    ),
    "negative-mapping-size": (
        "/linux/uidMappings/0/size",
        -1,
        "/linux/uidMappings/0/size",
        "must be at least 0",
    ),
    "unknown-personality-domain": (
        "/linux/personality",
        {"domain": "LINUX64"},
        "/linux/personality/domain",
        'must be one of "LINUX", "LINUX32"',
    ),
}


@pytest.mark.parametrize(
    ("pointer", "value", "where", "message"), BROKEN_CONFIGS.values(), ids=BROKEN_CONFIGS
)
def test_a_broken_runtime_config_is_refused(example, broken, pointer, value, where, message):
    document = broken(example("runtime-config"), pointer, *([] if value is None else [value]))
    assert problems(document, "runtime-config") == [Problem(where, message)]


def test_id_mappings_need_a_user_namespace(example, broken):
    document = broken(example("runtime-config"), "/linux/namespaces/5")
    assert problems(document, "runtime-config") == [
        Problem("/linux/gidMappings", "needs a user namespace in linux.namespaces"),
        Problem("/linux/uidMappings", "needs a user namespace in linux.namespaces"),
    ]


def test_time_offsets_need_a_time_namespace(example, broken):
    document = broken(example("runtime-config"), "/linux/namespaces/7")
    assert problems(document, "runtime-config") == [
        Problem("/linux/timeOffsets", "needs a time namespace in linux.namespaces")
    ]


def test_a_windows_config_needs_no_root():
    document = {"ociVersion": "1.2.0", "windows": {"layerFolders": []}}
    assert problems(document, "runtime-config") == []


BROKEN_STATES = {
    "running-without-pid": ("/pid", None, "/pid", REQUIRED),
    "relative-bundle": ("/bundle", "containers/redis", "/bundle", ABSOLUTE),
    "no-id": ("/id", None, "/id", REQUIRED),
    "oci-version-not-semver": (
        "/ociVersion",
        "one",
        "/ociVersion",
        "must be a SemVer 2.0.0 version",
    ),
    "negative-pid": ("/pid", -1, "/pid", "must be at least 0"),
}


@pytest.mark.parametrize(
    ("pointer", "value", "where", "message"), BROKEN_STATES.values(), ids=BROKEN_STATES
)
def test_a_broken_runtime_state_is_refused(example, broken, pointer, value, where, message):
    document = broken(example("runtime-state"), pointer, *([] if value is None else [value]))
    assert problems(document, "runtime-state") == [Problem(where, message)]


def test_a_stopped_container_needs_no_pid(example, broken):
    document = broken(broken(example("runtime-state"), "/pid"), "/status", "stopped")
    assert problems(document, "runtime-state") == []


BROKEN_ERRORS = {
    "code-in-lower-case": (
        "/errors/0/code",
        "blob_unknown",
        "/errors/0/code",
        "must contain only uppercase letters and underscores",
    ),
    "code-the-spec-does-not-define": (
        "/errors/0/code",
        "NOT_A_CODE",
        "/errors/0/code",
        "unknown error code NOT_A_CODE",
    ),
    "no-errors": ("/errors", None, "/errors", REQUIRED),
    "error-without-code": ("/errors/0/code", None, "/errors/0/code", REQUIRED),
    "message-not-a-string": (
        "/errors/0/message",
        5,
        "/errors/0/message",
        "must be a string, not integer",
    ),
}


@pytest.mark.parametrize(
    ("pointer", "value", "where", "message"), BROKEN_ERRORS.values(), ids=BROKEN_ERRORS
)
def test_a_broken_distribution_error_body_is_refused(
    example, broken, pointer, value, where, message
):
    document = broken(example("distribution-error"), pointer, *([] if value is None else [value]))
    assert problems(document, "distribution-error") == [Problem(where, message)]


def test_a_legacy_docker_error_code_is_accepted():
    assert problems({"errors": [{"code": "TAG_INVALID"}]}, "distribution-error") == []


def test_an_integer_of_the_linux_section_is_a_json_integer(example, broken):
    """The linux section is a file of its own, reached by $ref: the same choices hold there."""
    document = broken(example("runtime-config"), "/linux/resources/memory/kernel", 2.0)
    assert problems(document, "runtime-config") == [
        Problem("/linux/resources/memory/kernel", "must be an integer, not number")
    ]


def test_a_pattern_of_the_linux_section_ends_at_the_end(example, broken):
    document = broken(
        example("runtime-config"), "/linux/resources/hugepageLimits/0/pageSize", "2MB\n"
    )
    assert problems(document, "runtime-config") == [
        Problem(
            "/linux/resources/hugepageLimits/0/pageSize",
            "must be a page size such as 64KB, 2MB or 1GB",
        )
    ]
