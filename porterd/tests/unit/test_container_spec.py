"""A container's config.json: the image's conversion with the Engine API's Config and
HostConfig applied, as dockerd's createSpec does; every result is a valid runtime config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from porter_specs.validate import validate
from porterd.containers.create import checked_host_config, merged_config
from porterd.containers.mounts import resolve_mounts
from porterd.containers.record import Container, ContainerPaths
from porterd.containers.spec import ALL_CAPABILITIES, DEFAULT_CAPABILITIES, bundle_config
from porterd.errors import InvalidParameter

IMAGE = {
    "architecture": "amd64",
    "os": "linux",
    "rootfs": {"type": "layers", "diff_ids": []},
    "config": {"Cmd": ["sh"], "Env": ["PATH=/bin", "A=image"], "WorkingDir": "/srv"},
}
ID = "ab" * 32


class Volumes:
    def __init__(self, root: Path) -> None:
        self.root = root

    def mountpoint_for(self, name: str, *, create: bool) -> Path:
        return self.root / name / "_data"

    def create_anonymous(self) -> str:
        return "c" * 64


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\n")
    return root


def config_for(
    rootfs: Path, body: dict[str, Any] | None = None, host: dict[str, Any] | None = None
) -> dict[str, Any]:
    host_config = checked_host_config(host)
    container = Container(
        id=ID,
        name="/test",
        created="2026-01-01T00:00:00Z",
        image="busybox",
        image_id="sha256:" + "0" * 64,
        image_config=IMAGE,
        lowerdirs=(),
        config=merged_config({"Image": "busybox", **(body or {})}, IMAGE),
        host_config=host_config,
        runtime="porter-runtime",
    )
    container.mounts = resolve_mounts(host_config, [], Volumes(rootfs.parent / "volumes"))
    paths = ContainerPaths(rootfs.parent / "data", rootfs.parent / "run")
    document = bundle_config(container, rootfs, paths)
    validate(json.loads(json.dumps(document)), "runtime-config", what="config.json")
    return document


def test_the_image_cmd_env_and_workdir_apply_when_the_container_gives_none(rootfs: Path) -> None:
    process = config_for(rootfs)["process"]
    assert process["args"] == ["sh"]
    assert process["cwd"] == "/srv"
    assert "A=image" in process["env"] and f"HOSTNAME={ID[:12]}" in process["env"]


def test_the_container_env_wins_by_name_and_cmd_replaces_the_image_cmd(rootfs: Path) -> None:
    process = config_for(rootfs, {"Cmd": ["echo", "hi"], "Env": ["A=mine"]})["process"]
    assert process["args"] == ["echo", "hi"]
    assert "A=mine" in process["env"] and "A=image" not in process["env"]


def test_an_entrypoint_takes_the_cmd_as_arguments(rootfs: Path) -> None:
    process = config_for(rootfs, {"Entrypoint": ["/bin/env"], "Cmd": ["-i"]})["process"]
    assert process["args"] == ["/bin/env", "-i"]


def test_tty_gives_a_terminal_and_term(rootfs: Path) -> None:
    assert config_for(rootfs, {"Tty": True})["process"]["terminal"] is True
    assert "TERM=xterm" in config_for(rootfs, {"Tty": True})["process"]["env"]
    assert "TERM=xterm" not in config_for(rootfs)["process"]["env"]


def test_the_user_is_looked_up_in_the_rootfs(rootfs: Path) -> None:
    user = config_for(rootfs, {"User": "nobody"})["process"]["user"]
    assert (user["uid"], user["gid"]) == (65534, 65534)


def test_hostname_defaults_to_the_short_id(rootfs: Path) -> None:
    assert config_for(rootfs)["hostname"] == ID[:12]
    assert config_for(rootfs, {"Hostname": "box"})["hostname"] == "box"


def test_docker_default_capabilities_with_add_and_drop(rootfs: Path) -> None:
    caps = config_for(rootfs)["process"]["capabilities"]["bounding"]
    assert caps == list(DEFAULT_CAPABILITIES)
    host = {"CapAdd": ["NET_ADMIN"], "CapDrop": ["chown"]}
    caps = config_for(rootfs, host=host)["process"]["capabilities"]["effective"]
    assert "CAP_NET_ADMIN" in caps and "CAP_CHOWN" not in caps


def test_cap_drop_all_then_add_keeps_only_the_added(rootfs: Path) -> None:
    host = {"CapAdd": ["KILL"], "CapDrop": ["ALL"]}
    assert config_for(rootfs, host=host)["process"]["capabilities"]["permitted"] == ["CAP_KILL"]


def test_an_unknown_capability_is_refused_at_create() -> None:
    with pytest.raises(InvalidParameter, match="unknown capability"):
        checked_host_config({"CapAdd": ["FLY"]})


def test_privileged_gets_every_capability_and_no_masked_paths(rootfs: Path) -> None:
    document = config_for(rootfs, host={"Privileged": True})
    assert document["process"]["capabilities"]["bounding"] == list(ALL_CAPABILITIES)
    assert document["linux"]["maskedPaths"] == []
    assert {"allow": True, "access": "rwm"} in document["linux"]["resources"]["devices"]


def test_privileged_gets_the_host_devices_and_no_seccomp(rootfs: Path) -> None:
    linux = config_for(rootfs, host={"Privileged": True})["linux"]
    devices = {device["path"]: device for device in linux["devices"]}
    assert devices["/dev/null"] | {"fileMode": 0} == {
        "path": "/dev/null", "type": "c", "major": 1, "minor": 3, "fileMode": 0, "uid": 0, "gid": 0,
    }  # fmt: skip
    assert not [path for path in devices if path.startswith(("/dev/pts/", "/dev/shm/"))]
    assert "/dev/console" not in devices and "/dev/ptmx" not in devices
    assert "seccomp" not in linux and linux["readonlyPaths"] == []


def test_privileged_ignores_a_seccomp_profile_it_is_given(rootfs: Path) -> None:
    profile = json.dumps({"defaultAction": "SCMP_ACT_ERRNO"})
    host = {"Privileged": True, "SecurityOpt": [f"seccomp={profile}"]}
    assert "seccomp" not in config_for(rootfs, host=host)["linux"]


def test_an_unprivileged_container_gets_no_host_devices(rootfs: Path) -> None:
    assert "devices" not in config_for(rootfs)["linux"]


def allows(seccomp: dict[str, Any], syscall: str) -> bool:
    return any(
        syscall in rule["names"] and rule["action"] == "SCMP_ACT_ALLOW" and not rule.get("args")
        for rule in seccomp["syscalls"]
    )


def test_a_container_gets_the_default_seccomp_allow_list(rootfs: Path) -> None:
    seccomp = config_for(rootfs)["linux"]["seccomp"]
    assert (seccomp["defaultAction"], seccomp["defaultErrnoRet"]) == ("SCMP_ACT_ERRNO", 1)
    assert allows(seccomp, "read") and not allows(seccomp, "mount")


def test_cap_add_sys_admin_gives_mount_and_unshare_back(rootfs: Path) -> None:
    seccomp = config_for(rootfs, host={"CapAdd": ["SYS_ADMIN"]})["linux"]["seccomp"]
    assert allows(seccomp, "mount") and allows(seccomp, "unshare") and allows(seccomp, "clone")
    assert not allows(seccomp, "keyctl")


def test_seccomp_unconfined_applies_no_filter(rootfs: Path) -> None:
    host = {"SecurityOpt": ["seccomp=unconfined"]}
    assert "seccomp" not in config_for(rootfs, host=host)["linux"]


def test_resources_memory_cpus_and_pids(rootfs: Path) -> None:
    host = {"Memory": 64 << 20, "NanoCpus": 1_500_000_000, "CpuShares": 512, "PidsLimit": 10}
    resources = config_for(rootfs, host=host)["linux"]["resources"]
    assert resources["memory"] == {"limit": 64 << 20}
    assert resources["cpu"] == {"period": 100_000, "quota": 150_000, "shares": 512}
    assert resources["pids"] == {"limit": 10}


def test_ulimits_replace_the_default_nofile(rootfs: Path) -> None:
    host = {"Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}]}
    rlimits = config_for(rootfs, host=host)["process"]["rlimits"]
    assert rlimits == [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200}]


def test_init_runs_docker_init_first(rootfs: Path) -> None:
    document = config_for(rootfs, {"Cmd": ["sleep", "1"]}, {"Init": True})
    assert document["process"]["args"] == ["/sbin/docker-init", "--", "sleep", "1"]
    init = [m for m in document["mounts"] if m["destination"] == "/sbin/docker-init"]
    assert init and init[0]["source"] == "/usr/bin/docker-init"


def test_network_host_shares_the_host_namespace_and_none_makes_one(rootfs: Path) -> None:
    def kinds(mode: str) -> list[str]:
        document = config_for(rootfs, host={"NetworkMode": mode})
        return [ns["type"] for ns in document["linux"]["namespaces"]]

    assert "network" not in kinds("host")
    assert "network" in kinds("none")


def test_read_only_rootfs(rootfs: Path) -> None:
    assert config_for(rootfs, host={"ReadonlyRootfs": True})["root"]["readonly"] is True


def test_binds_tmpfs_and_named_volumes_become_mounts(rootfs: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    host = {
        "Binds": [f"{source}:/data:ro", "named:/vol"],
        "Tmpfs": {"/scratch": "size=1m"},
    }
    mounts = {m["destination"]: m for m in config_for(rootfs, host=host)["mounts"]}
    assert mounts["/data"]["source"] == str(source) and "ro" in mounts["/data"]["options"]
    assert source.is_dir()  # Binds create a missing source, as dockerd does
    assert mounts["/vol"]["source"] == str(tmp_path / "volumes" / "named" / "_data")
    assert mounts["/scratch"]["type"] == "tmpfs" and "size=1m" in mounts["/scratch"]["options"]


def test_a_mount_of_type_bind_refuses_a_missing_source(rootfs: Path, tmp_path: Path) -> None:
    host = {"Mounts": [{"Type": "bind", "Source": str(tmp_path / "none"), "Target": "/x"}]}
    with pytest.raises(InvalidParameter, match="bind source path does not exist"):
        config_for(rootfs, host=host)


def test_security_opt_seccomp_profile_and_no_new_privileges(rootfs: Path) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
            {
                "names": ["ptrace"],
                "action": "SCMP_ACT_ALLOW",
                "includes": {"caps": ["CAP_SYS_PTRACE"]},
            },
        ],
    }
    host = {"SecurityOpt": [f"seccomp={json.dumps(profile)}", "no-new-privileges"]}
    document = config_for(rootfs, host=host)
    assert document["process"]["noNewPrivileges"] is True
    assert document["linux"]["seccomp"]["syscalls"] == [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}
    ]


def test_an_unknown_security_opt_is_refused(rootfs: Path) -> None:
    with pytest.raises(InvalidParameter, match="security-opt"):
        config_for(rootfs, host={"SecurityOpt": ["magic"]})


def test_no_command_at_all_is_refused() -> None:
    image = {**IMAGE, "config": {}}
    with pytest.raises(InvalidParameter, match="No command specified"):
        merged_config({"Image": "x"}, image)


def test_auto_remove_with_a_restart_policy_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="AutoRemove"):
        checked_host_config({"AutoRemove": True, "RestartPolicy": {"Name": "always"}})


@pytest.mark.parametrize(
    "policy",
    [
        {"Name": "sometimes"},
        {"Name": "always", "MaximumRetryCount": 3},
        {"Name": "on-failure", "MaximumRetryCount": -1},
    ],
)
def test_malformed_restart_policies_are_refused(policy: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameter):
        checked_host_config({"RestartPolicy": policy})


def test_a_terminal_starts_at_the_console_size_the_client_gave(rootfs: Path) -> None:
    process = config_for(rootfs, {"Tty": True}, {"ConsoleSize": [30, 100]})["process"]
    assert process["consoleSize"] == {"height": 30, "width": 100}
