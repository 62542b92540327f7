"""porter-image build: what a RUN step sees, keeps in its layer and is cached by; each test
reads the image it built."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, image_config, run_build, unpack, write_context

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


def test_a_changed_shebang_heredoc_script_is_run_again(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    script = "FROM busybox\nRUN <<EOF\n#!/bin/sh\necho {} > /v\nEOF\n"
    write_context(ctx, {"Dockerfile": script.format("one")})
    build_ok(base, ctx)
    (ctx / "Dockerfile").write_text(script.format("two"))
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "v").read_text() == "two\n"


def test_a_proxy_build_arg_reaches_run_but_stays_out_of_the_history(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": 'FROM busybox\nRUN echo "$https_proxy" > /p\n'})
    build_ok(base, ctx, "--build-arg", "https_proxy=http://user:secret@127.0.0.1:3128")
    assert (unpack(base, "out", tmp_path) / "p").read_text() == (
        "http://user:secret@127.0.0.1:3128\n"
    )
    assert (
        image_config(base)["history"][-1]["created_by"] == 'RUN /bin/sh -c echo "$https_proxy" > /p'
    )


def test_a_changed_proxy_build_arg_does_not_rerun_the_step(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN cat /proc/sys/kernel/random/uuid > /u\n"})
    first = build_ok(base, ctx, "--build-arg", "HTTP_PROXY=http://127.0.0.1:3128")
    assert build_ok(base, ctx, "--build-arg", "HTTP_PROXY=http://127.0.0.1:8080") == first


def test_a_proxy_arg_the_dockerfile_declares_is_in_the_history(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nARG NO_PROXY\nRUN true\n"})
    build_ok(base, ctx, "--build-arg", "NO_PROXY=internal.example")
    created_by = image_config(base)["history"][-1]["created_by"]
    assert created_by == "RUN |1 NO_PROXY=internal.example /bin/sh -c true"


def test_network_host_runs_in_the_hosts_network_namespace(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN readlink /proc/self/ns/net > /netns\n"})
    build_ok(base, ctx, "--network", "host")
    netns = (unpack(base, "out", tmp_path) / "netns").read_text().strip()
    assert netns == os.readlink("/proc/self/ns/net")  # the builder runs where this test does


def test_tmpfs_mount_keeps_what_run_writes_there_out_of_the_layer(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\n"
        "RUN --mount=type=tmpfs,target=/scratch echo x > /scratch/f && ls /scratch > /seen\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "seen").read_text() == "f\n"
    assert not (rootfs / "scratch").exists()


@pytest.mark.parametrize("option", ["uid=nobody", "mode=8", "gid=4294967296"])
def test_a_cache_mount_owner_or_mode_that_is_no_number_is_one_error_line(
    base: Path, ctx: Path, option: str
) -> None:
    write_context(
        ctx, {"Dockerfile": f"FROM busybox\nRUN --mount=type=cache,target=/c,{option} true\n"}
    )
    result = run_build(base, ctx)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "porter-image: error: Dockerfile:2: RUN: --mount type=cache: invalid mode, uid or gid"
    ]


def test_a_cache_mount_gets_the_owner_and_mode_it_names(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\n"
        "RUN --mount=type=cache,target=/c,uid=7,gid=9,mode=0710 stat -c '%a %u %g' /c > /seen\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "seen").read_text() == "710 7 9\n"
