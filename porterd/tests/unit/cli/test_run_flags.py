"""run/create flags become the Engine API's container config as docker builds it; bad values
are one error line with exit code 125."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from porter_cli.container.create import command as create_command
from porter_cli.container.options import build_config
from porter_cli.errors import CliError


def config_for(*args: str, detach: bool = True) -> dict[str, Any]:
    ctx = create_command.make_context("create", list(args))
    params = dict(ctx.params)
    return build_config(params.pop("image"), params.pop("command"), params, detach)


def test_the_command_after_the_image_keeps_its_own_flags() -> None:
    config = config_for("--name", "x", "busybox", "ls", "-l", "--name")
    assert (config["Image"], config["Cmd"]) == ("busybox", ["ls", "-l", "--name"])


def test_no_command_leaves_the_images_own() -> None:
    assert "Cmd" not in config_for("busybox")


def test_env_from_flags_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\n\nA=1\nFROM_HOST\nUNSET_HERE\n")
    monkeypatch.setenv("FROM_HOST", "yes")
    monkeypatch.delenv("UNSET_HERE", raising=False)
    config = config_for("--env-file", str(env_file), "-e", "B=2", "-e", "C=", "busybox")
    assert config["Env"] == ["A=1", "FROM_HOST=yes", "B=2", "C="]


def test_binds_and_anonymous_volumes() -> None:
    config = config_for("-v", "/src:/dst:ro", "-v", "named:/data", "-v", "/anon", "busybox")
    assert config["HostConfig"]["Binds"] == ["/src:/dst:ro", "named:/data"]
    assert config["Volumes"] == {"/anon": {}}


def test_mount_syntax() -> None:
    config = config_for(
        "--mount",
        "type=bind,source=/a,target=/b,readonly",
        "--mount",
        "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777",
        "busybox",
    )
    assert config["HostConfig"]["Mounts"] == [
        {"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": True},
        {"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1 << 20, "Mode": 0o1777}},
    ]


def test_resources_and_limits() -> None:
    config = config_for(
        "--memory",
        "64m",
        "--cpus",
        "1.5",
        "--pids-limit",
        "20",
        "--ulimit",
        "nofile=100:200",
        "--shm-size",
        "1g",
        "busybox",
    )
    host = config["HostConfig"]
    assert host["Memory"] == 64 << 20
    assert host["NanoCpus"] == 1_500_000_000
    assert host["PidsLimit"] == 20
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 100, "Hard": 200}]
    assert host["ShmSize"] == 1 << 30


def test_security_flags() -> None:
    config = config_for(
        "--read-only",
        "--cap-add",
        "NET_ADMIN",
        "--cap-drop",
        "ALL",
        "--privileged",
        "--security-opt",
        "no-new-privileges",
        "--init",
        "-u",
        "1000:1000",
        "busybox",
    )
    host = config["HostConfig"]
    assert host["ReadonlyRootfs"] and host["Privileged"] and host["Init"]
    assert (host["CapAdd"], host["CapDrop"]) == (["NET_ADMIN"], ["ALL"])
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert config["User"] == "1000:1000"


def test_ports_publish_and_expose() -> None:
    config = config_for("-p", "127.0.0.1:8080:80", "-p", "53/udp", "busybox")
    assert config["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert config["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
    }


def test_restart_policy_and_healthcheck() -> None:
    config = config_for(
        "--restart",
        "on-failure:3",
        "--health-cmd",
        "true",
        "--health-interval",
        "1m30s",
        "--health-retries",
        "2",
        "busybox",
    )
    assert config["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert config["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 90 * 10**9,
        "Retries": 2,
    }


def test_an_empty_entrypoint_resets_the_images() -> None:
    assert config_for("--entrypoint", "", "busybox")["Entrypoint"] == [""]


def test_interactive_run_attaches_stdin_once() -> None:
    config = config_for("-i", "-t", "busybox", detach=False)
    assert config["OpenStdin"] and config["StdinOnce"] and config["AttachStdin"] and config["Tty"]


def test_rm_sets_auto_remove() -> None:
    assert config_for("--rm", "busybox")["HostConfig"]["AutoRemove"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--restart", "sometimes"], "--restart"),
        (["--restart", "always:3"], "--restart"),
        (["--rm", "--restart", "always"], "conflicts with --rm"),
        (["-v", "relative:dst"], "--volume"),
        (["--mount", "type=nfs,target=/x"], "type must be one of"),
        (["--mount", "type=bind,target=/x"], "needs a source"),
        (["-p", "80:http"], "--publish"),
        (["--ulimit", "nofile=200:100"], "soft limit is above"),
        (["--memory", "lots"], "--memory"),
        (["--health-interval", "soon"], "duration"),
        (["--env-file", "/nonexistent/env"], "cannot read env file"),
    ],
)
def test_bad_flag_values_are_one_error_with_exit_125(args: list[str], message: str) -> None:
    with pytest.raises(CliError, match=message) as caught:
        config_for(*args, "busybox")
    assert caught.value.exit_code == 125
    assert "\n" not in str(caught.value)
