"""porter-image build's command line: how the layout, the context and the Dockerfile are
named, and the options that pick what a build pulls and builds for; each test reads the image
it built or the exact error line."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
from build_support import (
    NEEDS_ROOT,
    build_ok,
    image_config,
    interrupted_build,
    run_build,
    unpack,
    write_context,
)
from http_test_server import reply, serving
from porter_image.cli.build_output import KEPT
from porter_image.layout import Layout
from porter_image.run_output import LINE

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


def test_a_layout_named_by_a_relative_path_runs_run_steps(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN echo ran > /r\n"})
    build_ok(Path(base.name), ctx, cwd=base.parent)
    assert (unpack(base, "out", tmp_path) / "r").read_text() == "ran\n"


def test_several_tags_in_one_layout_all_name_the_image(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nLABEL built=yes\n"})
    same_layout = base.parent / "." / base.name  # spelt otherwise, the same folder
    digest = build_ok(base, ctx, "-t", f"{same_layout}:second")
    layout = Layout.open(base)
    assert str(layout.resolve("out").digest) == str(layout.resolve("second").digest) == digest


def test_tags_in_different_layouts_are_one_error_line(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nLABEL built=yes\n"})
    result = run_build(base, ctx, "-t", f"{tmp_path}/other:x")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"porter-image: error: image '{tmp_path}/other:x': every -t must name the same layout"
    ]
    assert "out" not in Layout.open(base).tags()


def test_a_dockerfile_on_stdin_as_the_context_builds_with_an_empty_context(
    base: Path, tmp_path: Path
) -> None:
    dockerfile = b"FROM busybox\nCOPY . /ctx/\nRUN echo piped > /p\n"
    build_ok(base, Path("-"), stdin=dockerfile)
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "p").read_text() == "piped\n"
    assert list((rootfs / "ctx").iterdir()) == []


def test_a_gzipped_tar_on_stdin_is_the_context(base: Path, tmp_path: Path) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        for name, content in (("Dockerfile", b"FROM busybox\nCOPY f /f\n"), ("f", b"gz")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    build_ok(base, Path("-"), stdin=data.getvalue())
    assert (unpack(base, "out", tmp_path) / "f").read_text() == "gz"


def test_dockerfile_and_context_both_on_stdin_is_one_error_line(base: Path) -> None:
    result = run_build(base, Path("-"), "-f", "-", stdin=b"FROM busybox\n")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "porter-image: error: invalid argument: can't use stdin for both build context and "
        "dockerfile (see 'porter-image build --help')"
    ]


def test_progress_json_writes_every_line_as_a_json_object(base: Path, ctx: Path) -> None:
    run = "RUN echo hello && echo '{not json' >&2 && printf partial"
    dockerfile = f"FROM busybox\n{run}\nENV A=1\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    result = run_build(base, ctx, "--progress", "json", quiet=False)
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stderr.splitlines()]
    streams = [d["stream"] for d in documents if "stream" in d]
    assert streams[-4:] == ["hello\n", "{not json\n", "partial\n", "Dockerfile:3: ENV\n"]
    assert documents[-1] == {"aux": {"ID": result.stdout.strip()}}


def test_progress_json_keeps_a_step_line_whole_after_output_ending_near_64_kib(
    base: Path, ctx: Path
) -> None:
    """The step line's mark lands across the 64 KiB piece a long line is read in."""
    run = f"RUN head -c {LINE - 3} /dev/zero | tr '\\0' x"
    write_context(ctx, {"Dockerfile": f"FROM busybox\n{run}\nENV A=1\n"})
    result = run_build(base, ctx, "--progress", "json", quiet=False)
    assert result.returncode == 0, result.stderr
    documents = [json.loads(line) for line in result.stderr.splitlines()]
    streams = [d["stream"] for d in documents if "stream" in d]
    assert streams[-2:] == ["x" * (LINE - 3) + "\n", "Dockerfile:3: ENV\n"]


def test_progress_json_shows_a_failure_as_a_json_error(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN echo why; exit 3\n"})
    result = run_build(base, ctx, "--progress", "json", quiet=False)
    assert result.returncode == 1
    documents = [json.loads(line) for line in result.stderr.splitlines()]
    text = "Dockerfile:2: RUN: '/bin/sh -c echo why; exit 3' exited with status 3"
    assert documents[-2:] == [
        {"stream": "why\n"},
        {"errorDetail": {"message": text}, "error": text},
    ]


def test_progress_json_shows_a_usage_error_as_a_json_error(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\n"})
    plain = run_build(base, ctx, "-f", str(ctx / "missing"), quiet=False)
    result = run_build(base, ctx, "-f", str(ctx / "missing"), "--progress", "json", quiet=False)
    text = plain.stderr.strip().removeprefix("porter-image: error: ")
    assert "(see 'porter-image build --help')" in text
    assert (result.returncode, plain.returncode) == (2, 2)
    assert [json.loads(line) for line in result.stderr.splitlines()] == [
        {"errorDetail": {"message": text}, "error": text}
    ]


def test_progress_json_shows_tags_in_different_layouts_as_a_json_error(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\n"})
    result = run_build(base, ctx, "-t", f"{tmp_path}/other:x", "--progress", "json", quiet=False)
    text = f"image '{tmp_path}/other:x': every -t must name the same layout"
    assert result.returncode == 1
    assert [json.loads(line) for line in result.stderr.splitlines()] == [
        {"errorDetail": {"message": text}, "error": text}
    ]


def test_progress_json_shows_ctrl_c_as_a_json_error(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN sleep 60\n"})
    status, stderr = interrupted_build(base, ctx, "--progress", "json")
    documents = [json.loads(line) for line in stderr.splitlines()]
    assert status == 130
    assert documents[-1] == {"errorDetail": {"message": "interrupted"}, "error": "interrupted"}


def test_quiet_hides_run_output(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN echo chatter && echo more >&2\n"})
    result = run_build(base, ctx)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.strip() == str(Layout.open(base).resolve("out").digest)


def test_quiet_shows_a_failed_runs_output_before_the_error(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN echo why >&2; exit 3\n"})
    result = run_build(base, ctx)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "why",
        "porter-image: error: Dockerfile:2: RUN: '/bin/sh -c echo why >&2; exit 3' "
        "exited with status 3",
    ]


def test_quiet_shows_the_last_256_kib_of_a_failed_runs_output(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN seq 1 100000; exit 3\n"})
    result = run_build(base, ctx)
    *shown, error = result.stderr.splitlines()
    first = int(shown[0])
    assert result.returncode == 1 and error.startswith("porter-image: error: Dockerfile:2")
    assert shown == [str(number) for number in range(first, 100_001)]
    size = sum(len(line) + 1 for line in shown)
    assert size <= KEPT < size + len(str(first - 1)) + 1


def test_platform_sets_targetplatform_and_the_images_platform(base: Path, ctx: Path) -> None:
    dockerfile = "FROM scratch\nARG TARGETPLATFORM\nLABEL p=$TARGETPLATFORM\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--platform", "linux/arm64/v8")
    config = image_config(base)
    assert config["config"]["Labels"] == {"p": "linux/arm64/v8"}
    assert (config["os"], config["architecture"], config["variant"]) == ("linux", "arm64", "v8")


def test_a_platform_the_base_image_lacks_is_one_error_line(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN true\n"})
    arch = image_config(base, "busybox")["architecture"]
    other = "s390x" if arch != "s390x" else "riscv64"
    result = run_build(base, ctx, "--platform", f"linux/{other}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"porter-image: error: {base}:busybox: image is for linux/{arch}, not linux/{other}"
    ]


def test_pull_asks_the_registry_although_the_layout_has_the_tag(base: Path, ctx: Path) -> None:
    """FROM busybox is docker.io's with --pull: the request reaches (only) a proxy on
    loopback, which refuses it, so the build fails where without --pull it would not."""
    write_context(ctx, {"Dockerfile": "FROM busybox\nLABEL pulled=yes\n"})
    with serving(lambda handler: reply(handler, 403)) as (proxy, seen):
        proxies = {name: proxy for name in ("HTTPS_PROXY", "https_proxy")}
        env = {**proxies, "NO_PROXY": "", "no_proxy": ""}
        result = run_build(base, ctx, "--pull", env=env)
        assert build_ok(base, ctx, env=env)  # the layout's busybox, no request
    assert result.returncode == 1
    assert [(method, target) for method, target, *_ in seen.seen] == [
        ("CONNECT", "registry-1.docker.io:443")
    ]
    assert len(result.stderr.splitlines()) == 1 and "busybox" in result.stderr


def test_a_failed_build_leaves_no_stale_iidfile(base: Path, ctx: Path, tmp_path: Path) -> None:
    iidfile = tmp_path / "iid"
    write_context(ctx, {"Dockerfile": "FROM busybox\nLABEL first=yes\n"})
    build_ok(base, ctx, "--iidfile", str(iidfile))
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN exit 3\n")
    assert run_build(base, ctx, "--iidfile", str(iidfile)).returncode == 1
    assert not iidfile.exists()
