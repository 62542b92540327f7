"""The layout commands (init, list, tag, untag, gc, fsck, validate) through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from image_test_support import snapshot
from porter_image.cli.main import all_commands, cli
from porter_image.layout import Layout


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_every_command_has_help() -> None:
    for name in all_commands():
        result = run(name, "--help")
        assert result.exit_code == 0 and "Usage: " in result.output, name


def test_init_creates_a_layout(tmp_path: Path) -> None:
    assert run("init", tmp_path / "l").exit_code == 0
    assert Layout.open(tmp_path / "l").tags() == []


def test_init_refuses_an_existing_layout(image_layout: Layout) -> None:
    result = run("init", image_layout.path)
    assert result.exit_code == 1
    reason = "exists and is not an empty directory"
    assert result.stderr == f"porter-image: error: layout {image_layout.path}: {reason}\n"


def test_list_prints_tags_and_digests(image_layout: Layout) -> None:
    digest = image_layout.resolve("v1").digest
    assert run("list", image_layout.path).output == f"v1\t{digest}\n"


def test_list_json_is_a_list_of_objects(image_layout: Layout) -> None:
    [entry] = json.loads(run("list", image_layout.path, "--format", "json").output)
    assert entry["tag"] == "v1" and entry["digest"].startswith("sha256:")


def test_list_of_a_directory_that_is_not_a_layout_fails(tmp_path: Path) -> None:
    result = run("list", tmp_path)
    assert result.exit_code == 1
    assert "not an OCI image layout" in result.stderr


def test_tag_adds_a_second_name(image_layout: Layout) -> None:
    assert run("tag", f"{image_layout.path}:v1", "latest").exit_code == 0
    assert image_layout.resolve("latest").digest == image_layout.resolve("v1").digest


def test_tag_of_unknown_tag_exits_3_and_changes_nothing(image_layout: Layout) -> None:
    before = snapshot(image_layout.path)
    result = run("tag", f"{image_layout.path}:nope", "latest")
    assert result.exit_code == 3
    assert (
        result.stderr == f"porter-image: error: layout {image_layout.path}: tag 'nope' not found\n"
    )
    assert snapshot(image_layout.path) == before


def test_tag_with_invalid_name_fails(image_layout: Layout) -> None:
    result = run("tag", f"{image_layout.path}:v1", "bad/tag")
    assert result.exit_code == 1 and "invalid tag 'bad/tag'" in result.stderr


def test_untag_removes_the_tag(image_layout: Layout) -> None:
    assert run("untag", f"{image_layout.path}:v1").exit_code == 0
    assert image_layout.tags() == []


def test_an_image_argument_without_tag_is_a_usage_error(image_layout: Layout) -> None:
    result = run("untag", image_layout.path)
    assert result.exit_code == 2 and "no tag given" in result.output


def test_gc_dry_run_reports_without_removing(image_layout: Layout) -> None:
    orphan, _ = image_layout.put_bytes(b"x")
    result = run("gc", "--dry-run", image_layout.path)
    assert result.output == f"would remove {orphan}\nwould remove 1 blob\n"
    assert image_layout.has_blob(orphan)


def test_gc_json_lists_removed_digests(image_layout: Layout) -> None:
    orphan, _ = image_layout.put_bytes(b"x")
    document = json.loads(run("gc", "--format", "json", image_layout.path).output)
    assert document == {"dryRun": False, "removed": [str(orphan)]}


def test_fsck_of_a_healthy_layout_says_ok(image_layout: Layout) -> None:
    result = run("fsck", image_layout.path)
    assert result.exit_code == 0 and result.output == f"{image_layout.path}: ok\n"


def test_fsck_names_a_corrupt_blob_and_exits_4(image_layout: Layout) -> None:
    digest, _ = image_layout.put_bytes(b"good")
    image_layout.blob_path(digest).write_bytes(b"bad")
    result = run("fsck", image_layout.path)
    assert result.exit_code == 4
    assert result.output.startswith(f"blob {digest}: content hashes to")
    assert result.stderr == f"porter-image: error: {image_layout.path}: 1 problem found\n"


def test_fsck_json_lists_problems(image_layout: Layout) -> None:
    (image_layout.blobs / "sha256" / "junk").write_bytes(b"")
    document = json.loads(run("fsck", "--format", "json", image_layout.path).stdout)
    assert document["ok"] is False
    assert document["problems"][0]["object"] == "blobs/sha256/junk"


def test_validate_of_a_tag_says_ok(image_layout: Layout) -> None:
    result = run("validate", f"{image_layout.path}:v1")
    assert result.exit_code == 0 and result.output.endswith(":v1: ok\n")


def test_validate_of_unknown_tag_exits_3(image_layout: Layout) -> None:
    assert run("validate", f"{image_layout.path}:nope").exit_code == 3


@pytest.mark.parametrize("command", ["fsck", "validate", "list", "gc"])
def test_read_commands_on_a_missing_layout_fail_without_creating_it(
    tmp_path: Path, command: str
) -> None:
    result = run(command, tmp_path / "missing")
    assert result.exit_code == 1 and "no such layout directory" in result.stderr
    assert not (tmp_path / "missing").exists()
