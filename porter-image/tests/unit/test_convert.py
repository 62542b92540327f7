"""Image config to runtime config.json (conversion.md, with umoci's and runc spec's defaults)."""

from __future__ import annotations

from pathlib import Path

import pytest
from porter_image.convert import runtime_config, write_runtime_config
from porter_image.errors import RuntimeConfigError
from porter_specs.models import ContainerConfig, ImageConfig
from porter_specs.runtime_config import IDMapping, Namespace, Process, RuntimeConfig
from porter_specs.runtime_defaults import MASKED_PATHS
from porter_specs.validate import problems


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nweb:x:33:33::/srv:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\nweb:x:33:\nlog:x:4:web\n")
    return root


def convert(rootfs: Path, **fields: object) -> RuntimeConfig:
    image_fields = {k: fields.pop(k) for k in ("created", "author", "variant") if k in fields}
    image = ImageConfig("amd64", "linux", config=ContainerConfig(**fields), **image_fields)  # type: ignore[arg-type]
    return runtime_config(image, rootfs)


def process(config: RuntimeConfig) -> Process:
    assert config.process is not None
    return config.process


def test_args_are_entrypoint_then_cmd(rootfs: Path) -> None:
    config = convert(rootfs, entrypoint=("/bin/app", "-v"), cmd=("serve",))
    assert process(config).args == ("/bin/app", "-v", "serve")


def test_args_default_to_sh_when_the_image_has_neither(rootfs: Path) -> None:
    assert process(convert(rootfs)).args == ("sh",)


def test_cwd_is_working_dir_or_root(rootfs: Path) -> None:
    assert process(convert(rootfs, working_dir="/srv")).cwd == "/srv"
    assert process(convert(rootfs)).cwd == "/"


def test_image_env_replaces_defaults_by_name_then_home_is_added(rootfs: Path) -> None:
    env = process(convert(rootfs, env=("PATH=/bin", "LANG=C"))).env
    assert env == ("PATH=/bin", "TERM=xterm", "LANG=C", "HOME=/root")


def test_home_set_by_the_image_is_not_changed(rootfs: Path) -> None:
    env = process(convert(rootfs, env=("HOME=/data",))).env
    assert [e for e in env if e.startswith("HOME=")] == ["HOME=/data"]


def test_an_env_entry_without_equals_is_an_error(rootfs: Path) -> None:
    with pytest.raises(RuntimeConfigError, match="image Env entry 'JUSTNAME': is not NAME=VALUE"):
        convert(rootfs, env=("JUSTNAME",))


def test_user_name_resolves_in_the_rootfs(rootfs: Path) -> None:
    user = process(convert(rootfs, user="web")).user
    assert (user.uid, user.gid, user.additional_gids) == (33, 33, (4,))


def test_unknown_user_is_an_error(rootfs: Path) -> None:
    with pytest.raises(RuntimeConfigError, match="no such user"):
        convert(rootfs, user="ghost")


def test_config_fields_become_annotations(rootfs: Path) -> None:
    config = convert(
        rootfs,
        exposed_ports=("80/tcp", "53/udp"),
        stop_signal="SIGQUIT",
        author="someone",
        created="2024-01-02T03:04:05Z",
    )
    key = "org.opencontainers.image."
    assert config.annotations == {
        key + "os": "linux",
        key + "architecture": "amd64",
        key + "author": "someone",
        key + "created": "2024-01-02T03:04:05Z",
        key + "stopSignal": "SIGQUIT",
        key + "exposedPorts": "53/udp,80/tcp",
    }


def test_labels_win_over_the_configs_annotations(rootfs: Path) -> None:
    labels = {"org.opencontainers.image.os": "plan9", "team": "a"}
    annotations = convert(rootfs, labels=labels).annotations
    assert annotations["org.opencontainers.image.os"] == "plan9" and annotations["team"] == "a"


def test_volumes_become_tmpfs_mounts(rootfs: Path) -> None:
    mounts = convert(rootfs, volumes=("/data",)).mounts
    (volume,) = [m for m in mounts if m.destination == "/data"]
    assert volume.type == "tmpfs" and "nosuid" in volume.options


def test_defaults_are_runc_specs(rootfs: Path) -> None:
    config = convert(rootfs)
    assert config.root is not None and config.root.path == "rootfs" and not config.root.readonly
    assert config.linux is not None
    assert [ns.type for ns in config.linux.namespaces] == ["pid", "network", "ipc", "uts", "mount"]
    assert [m.destination for m in config.mounts] == [
        "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"
    ]  # fmt: skip
    assert config.linux.masked_paths == MASKED_PATHS  # as `porter-runtime spec` writes them
    assert "/proc/sys" in config.linux.readonly_paths
    proc = process(config)
    assert proc.no_new_privileges and proc.capabilities is not None
    assert proc.capabilities.bounding == ("CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE")
    assert [(r.type, r.soft, r.hard) for r in proc.rlimits] == [("RLIMIT_NOFILE", 1024, 1024)]


def test_the_config_is_valid_against_the_runtime_spec_schema(rootfs: Path) -> None:
    config = convert(rootfs, user="web", volumes=("/data",), exposed_ports=("80/tcp",))
    assert problems(config.to_json(), "runtime-config") == []


def test_rootless_maps_container_root_to_the_given_user(rootfs: Path) -> None:
    image = ImageConfig("amd64", "linux", config=ContainerConfig(user="web"))
    config = runtime_config(image, rootfs, rootless_ids=(1234, 5678))
    linux = config.linux
    assert linux is not None
    assert linux.uid_mappings == (IDMapping(0, 1234, 1),)
    assert linux.gid_mappings == (IDMapping(0, 5678, 1),)
    assert Namespace("user") in linux.namespaces and Namespace("network") not in linux.namespaces
    assert linux.resources is None and process(config).user.additional_gids == ()
    assert all("gid=5" not in m.options for m in config.mounts)
    sys_mounts = [m for m in config.mounts if m.destination.startswith("/sys")]
    assert [(m.destination, m.type, m.source) for m in sys_mounts] == [("/sys", "bind", "/sys")]
    assert problems(config.to_json(), "runtime-config") == []


def test_only_linux_images_convert(rootfs: Path) -> None:
    with pytest.raises(RuntimeConfigError, match="only linux images"):
        runtime_config(ImageConfig("amd64", "windows"), rootfs)


def test_write_puts_config_json_beside_the_rootfs(rootfs: Path) -> None:
    write_runtime_config(rootfs.parent, convert(rootfs))
    written = RuntimeConfig.load((rootfs.parent / "config.json").read_bytes())
    assert written == convert(rootfs)
