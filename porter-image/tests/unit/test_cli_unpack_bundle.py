"""`porter-image unpack` writes a runtime bundle: rootfs plus a config.json from the image."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner, Result
from image_test_support import make_image
from porter_image.cli.main import cli
from porter_image.layout import Layout
from porter_specs.validate import problems

PASSWD = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def image_with_user(layout: Layout, user: str) -> str:
    make_image(layout, "v1", {"etc/passwd": PASSWD, "etc/group": b"root:x:0:\n"})
    assert run("config", f"{layout.path}:v1", "--user", user, "--cmd", "id").exit_code == 0
    return f"{layout.path}:v1"


def test_unpack_writes_a_valid_config_json(tmp_path: Path, layout: Layout) -> None:
    result = run("unpack", image_with_user(layout, "app"), tmp_path / "b")
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert problems(config, "runtime-config") == []
    assert config["root"]["path"] == "rootfs"
    assert config["process"]["args"] == ["id"]
    assert config["process"]["user"] == {"uid": 1000, "gid": 1000}
    assert "HOME=/home/app" in config["process"]["env"]


def test_unpack_rootless_maps_the_calling_user(tmp_path: Path, layout: Layout) -> None:
    result = run("unpack", "--rootless", image_with_user(layout, "root"), tmp_path / "b")
    assert result.exit_code == 0, result.output
    linux = json.loads((tmp_path / "b" / "config.json").read_text())["linux"]
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": os.geteuid(), "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": os.getegid(), "size": 1}]
    assert {"type": "user"} in linux["namespaces"]


def test_unpack_of_an_image_with_an_unknown_user_fails_and_removes_the_bundle(
    tmp_path: Path, layout: Layout
) -> None:
    result = run("unpack", image_with_user(layout, "ghost"), tmp_path / "b")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "porter-image: error: image config User 'ghost': no such user in the rootfs's /etc/passwd"
    ]
    assert not (tmp_path / "b").exists()
