"""inspect and config through the CLI, on small hand-made images."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from image_test_support import snapshot
from porter_image.cli.main import cli
from porter_image.image import load_image
from porter_image.layout import Layout
from porter_specs import media_types
from porter_specs.models import Descriptor


def run(*args: object) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def _config(layout: Layout, tag: str = "v1") -> dict:
    return load_image(layout, tag).config_json


def test_inspect_json_shows_digest_layers_and_config(image_layout: Layout) -> None:
    info = json.loads(run("inspect", f"{image_layout.path}:v1", "--format", "json").output)
    assert info["digest"] == str(image_layout.resolve("v1").digest)
    assert len(info["layers"]) == 1 and info["config"] == {"Env": ["PATH=/bin"]}


def test_inspect_text_names_the_image(image_layout: Layout) -> None:
    result = run("inspect", f"{image_layout.path}:v1")
    assert result.exit_code == 0 and f"name       {image_layout.path}:v1" in result.output


def test_inspect_of_unknown_tag_exits_3(image_layout: Layout) -> None:
    result = run("inspect", f"{image_layout.path}:nope")
    assert result.exit_code == 3 and "tag 'nope' not found" in result.stderr


def test_inspect_refuses_a_manifest_with_invalid_json(layout: Layout) -> None:
    digest, size = layout.put_bytes(b"{broken")
    layout.set_tag("v1", Descriptor(media_types.IMAGE_MANIFEST, digest, size))
    result = run("inspect", f"{layout.path}:v1")
    assert result.exit_code == 1
    assert f"blob {digest}" in result.stderr and "invalid JSON" in result.stderr


def test_inspect_refuses_a_manifest_with_a_schema_violation(image_layout: Layout) -> None:
    manifest = image_layout.read_json(image_layout.resolve("v1"))
    manifest["layers"] = "not a list"
    image_layout.set_tag("v1", image_layout.put_json(media_types.IMAGE_MANIFEST, manifest))
    result = run("inspect", f"{image_layout.path}:v1")
    assert result.exit_code == 1 and "schema violation" in result.stderr


def test_inspect_refuses_a_corrupt_config_with_exit_4(image_layout: Layout) -> None:
    config = image_layout.read_json(image_layout.resolve("v1"))["config"]["digest"]
    path = image_layout.blobs / "sha256" / config.split(":")[1]
    path.write_bytes(b" " * path.stat().st_size)
    result = run("inspect", f"{image_layout.path}:v1")
    assert result.exit_code == 4 and "digest mismatch" in result.stderr


def test_inspect_of_other_platform_fails(image_layout: Layout) -> None:
    result = run("inspect", f"{image_layout.path}:v1", "--platform", "windows/arm64")
    assert result.exit_code == 1 and "not windows/arm64" in result.stderr


def test_config_sets_env_cmd_and_user(image_layout: Layout) -> None:
    result = run(
        "config",
        f"{image_layout.path}:v1",
        "--env",
        "PATH=/usr/bin",
        "--env",
        "A=1",
        "--cmd",
        "sh",
        "--cmd",
        "-c",
        "--user",
        "1000:1000",
    )
    assert result.exit_code == 0, result.output
    config = _config(image_layout)["config"]
    assert config["Env"] == ["PATH=/usr/bin", "A=1"]
    assert config["Cmd"] == ["sh", "-c"] and config["User"] == "1000:1000"


def test_config_entrypoint_as_json_array(image_layout: Layout) -> None:
    run("config", f"{image_layout.path}:v1", "--entrypoint", '["/bin/sh", "-c"]')
    assert _config(image_layout)["config"]["Entrypoint"] == ["/bin/sh", "-c"]


def test_config_labels_ports_volumes_workdir_stop_signal(image_layout: Layout) -> None:
    run(
        "config",
        f"{image_layout.path}:v1",
        "--label",
        "a=b",
        "--exposed-port",
        "80",
        "--volume",
        "/data",
        "--workdir",
        "/srv",
        "--stop-signal",
        "SIGINT",
    )
    config = _config(image_layout)["config"]
    assert config["Labels"] == {"a": "b"} and config["ExposedPorts"] == {"80/tcp": {}}
    assert config["Volumes"] == {"/data": {}} and config["WorkingDir"] == "/srv"
    assert config["StopSignal"] == "SIGINT"


def test_config_clear_env_removes_all_variables(image_layout: Layout) -> None:
    run("config", f"{image_layout.path}:v1", "--clear-env")
    assert "Env" not in _config(image_layout)["config"]


def test_config_adds_an_empty_layer_history_entry(image_layout: Layout) -> None:
    run("config", f"{image_layout.path}:v1", "--user", "nobody")
    entry = _config(image_layout)["history"][-1]
    assert entry["empty_layer"] is True and "--user nobody" in entry["created_by"]


def test_config_with_tag_keeps_the_source(image_layout: Layout) -> None:
    before = image_layout.resolve("v1")
    run("config", f"{image_layout.path}:v1", "--user", "nobody", "--tag", "v2")
    assert image_layout.resolve("v1") == before
    assert _config(image_layout, "v2")["config"]["User"] == "nobody"


def test_config_shares_layers_with_the_source(image_layout: Layout) -> None:
    layers = load_image(image_layout, "v1").manifest.layers
    run("config", f"{image_layout.path}:v1", "--user", "nobody", "--tag", "v2")
    assert load_image(image_layout, "v2").manifest.layers == layers


@pytest.mark.parametrize(
    "args, message",
    [
        (["--env", "NOEQUALS"], "is not NAME=VALUE"),
        (["--label", "nolabel"], "is not key=value"),
        (["--cmd", "[1, 2]"], "JSON array of strings"),
        (["--platform", "linux"], "expected os/arch"),
    ],
)
def test_config_bad_options_are_usage_errors(
    image_layout: Layout, args: list, message: str
) -> None:
    before = snapshot(image_layout.path)
    result = run("config", f"{image_layout.path}:v1", *args)
    assert result.exit_code == 2 and message in result.output
    assert snapshot(image_layout.path) == before


def test_config_with_invalid_new_tag_leaves_layout_unchanged(image_layout: Layout) -> None:
    before = snapshot(image_layout.path)
    result = run("config", f"{image_layout.path}:v1", "--user", "x", "--tag", "bad/tag")
    assert result.exit_code == 1 and "invalid tag" in result.stderr
    assert snapshot(image_layout.path) == before


def test_config_of_unknown_tag_leaves_layout_unchanged(image_layout: Layout) -> None:
    before = snapshot(image_layout.path)
    assert run("config", f"{image_layout.path}:nope", "--user", "x").exit_code == 3
    assert snapshot(image_layout.path) == before
