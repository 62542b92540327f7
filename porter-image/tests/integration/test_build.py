"""porter-image build: Dockerfiles built for real, each test reading the image it built."""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from build_support import (
    NEEDS_ROOT,
    build_cgroups,
    build_ok,
    image_config,
    interrupted_build,
    overlay_mounts_below,
    run_build,
    unpack,
    write_context,
)
from image_test_support import PORTER_IMAGE
from porter_image.layout import Layout
from porter_specs.digest import Digest

pytestmark = [pytest.mark.integration, NEEDS_ROOT]


def test_copy_places_files_owned_by_root_with_their_modes(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nCOPY app /opt/app/\n", "app/run.sh": "x"})
    (ctx / "app" / "run.sh").chmod(0o751)
    build_ok(base, ctx)
    path = unpack(base, "out", tmp_path) / "opt" / "app" / "run.sh"
    st = path.stat()
    assert (path.read_text(), st.st_mode & 0o7777, st.st_uid, st.st_gid) == ("x", 0o751, 0, 0)


def test_copy_chown_and_chmod(base: Path, ctx: Path, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nCOPY --chown=1234:99 --chmod=0640 f /f\n"
    write_context(ctx, {"Dockerfile": dockerfile, "f": "data"})
    build_ok(base, ctx)
    st = (unpack(base, "out", tmp_path) / "f").stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (1234, 99, 0o640)


def test_copy_chown_by_name_reads_the_images_passwd(base: Path, ctx: Path, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nCOPY --chown=nobody f /f\n"
    write_context(ctx, {"Dockerfile": dockerfile, "f": "data"})
    build_ok(base, ctx)
    st = (unpack(base, "out", tmp_path) / "f").stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_dockerignore_keeps_files_out_of_copies(base: Path, ctx: Path, tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM busybox\nCOPY . /src/\n",
        ".dockerignore": "*.log\n!keep.log\nsecret/\n",
        "a.log": "",
        "keep.log": "",
        "secret/key": "",
        "main.c": "",
    }
    write_context(ctx, files)
    build_ok(base, ctx)
    src = unpack(base, "out", tmp_path) / "src"
    assert sorted(os.listdir(src)) == [".dockerignore", "Dockerfile", "keep.log", "main.c"]


def test_copy_into_an_existing_folder_without_a_trailing_slash(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nCOPY f /etc\n", "f": "x"})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "etc" / "f").read_text() == "x"
    assert (rootfs / "etc" / "passwd").is_file()


def test_copy_heredoc_expands_variables(base: Path, ctx: Path, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nENV WHO=you\nCOPY <<EOF /hello\nhi $WHO\nEOF\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "hello").read_text() == "hi you\n"


def test_add_unpacks_a_local_tar(base: Path, ctx: Path, tmp_path: Path) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as tar:
        info = tarfile.TarInfo("inside/file.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    write_context(
        ctx, {"Dockerfile": "FROM busybox\nADD a.tar.gz /x/\n", "a.tar.gz": data.getvalue()}
    )
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "x" / "inside" / "file.txt").read_text() == "abc"


def test_config_fields_as_docker_writes_them(base: Path, ctx: Path) -> None:
    dockerfile = """\
FROM busybox
ARG PORT=80
ENV APP=/srv PORT=$PORT
LABEL org.example.name="my app"
WORKDIR $APP
WORKDIR sub
USER nobody
EXPOSE $PORT 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --retries=2 CMD wget -q localhost
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/app"]
CMD run
ONBUILD COPY . /src
"""
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--build-arg", "PORT=8080", "--label", "extra=yes")
    config = image_config(base)["config"]
    assert config["Env"][-2:] == ["APP=/srv", "PORT=8080"]
    assert config["Labels"] == {"org.example.name": "my app", "extra": "yes"}
    assert config["WorkingDir"] == "/srv/sub"
    assert config["User"] == "nobody"
    assert config["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert config["Volumes"] == {"/data": {}}
    assert config["StopSignal"] == "SIGTERM"
    assert config["Healthcheck"] == {
        "Test": ["CMD-SHELL", "wget -q localhost"],
        "Interval": 30_000_000_000,
        "Retries": 2,
    }
    assert config["Shell"] == ["/bin/sh", "-ec"]
    assert config["Entrypoint"] == ["/bin/app"]
    assert config["Cmd"] == ["/bin/sh", "-ec", "run"]
    assert config["OnBuild"] == ["COPY . /src"]


def test_history_has_an_entry_per_instruction_and_a_layer_per_copy_and_run(
    base: Path, ctx: Path
) -> None:
    dockerfile = 'FROM busybox\nENV A=1\nCOPY f /f\nRUN true\nCMD ["sh"]\n'
    write_context(ctx, {"Dockerfile": dockerfile, "f": ""})
    build_ok(base, ctx)
    config = image_config(base)
    new = config["history"][-4:]
    assert [h["created_by"].split()[0] for h in new] == ["ENV", "COPY", "RUN", "CMD"]
    assert [h.get("empty_layer", False) for h in new] == [True, False, False, True]
    layers = [h for h in config["history"] if not h.get("empty_layer")]
    assert len(layers) == len(config["rootfs"]["diff_ids"])


def test_entrypoint_resets_the_base_images_cmd(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": 'FROM busybox\nENTRYPOINT ["top"]\n'})
    build_ok(base, ctx)
    assert "Cmd" not in image_config(base)["config"]


def test_run_writes_into_a_new_layer_with_env_user_and_workdir(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = """\
FROM busybox
ARG WHAT=built
ENV WHERE=here
WORKDIR /work
RUN echo "$WHAT $WHERE $(pwd) $(id -u)" > out && mkdir /tmp/n && chown nobody /tmp/n
USER nobody
RUN id -u > /tmp/n/uid
"""
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "work" / "out").read_text() == "built here /work 0\n"
    assert (rootfs / "tmp" / "n" / "uid").read_text() == "65534\n"


def test_run_deletions_become_whiteouts_and_replaced_folders_opaque(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = """\
FROM busybox
RUN mkdir -p /d/old && touch /d/old/a /d/keep /gone
RUN rm /gone && rm -rf /d && mkdir /d && touch /d/new
"""
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert not (rootfs / "gone").exists()
    assert sorted(os.listdir(rootfs / "d")) == ["new"]


def test_run_leaves_no_runtime_mount_points_in_the_layer(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN touch /made\n"})
    build_ok(base, ctx)
    layout = Layout.open(base)
    config = image_config(base)
    manifest = json.loads(layout.read_blob(layout.resolve("out")))
    last = Digest.parse(manifest["layers"][-1]["digest"])
    with layout.open_blob(last) as blob, tarfile.open(fileobj=blob, mode="r:gz") as tar:
        names = sorted(m.name.rstrip("/") for m in tar.getmembers())
    assert names == ["made"]
    assert len(config["rootfs"]["diff_ids"]) == len(manifest["layers"])


def test_run_heredoc_is_the_script(base: Path, ctx: Path, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nRUN <<EOF\necho one > /one\necho two > /two\nEOF\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert ((rootfs / "one").read_text(), (rootfs / "two").read_text()) == ("one\n", "two\n")


def test_run_cache_mount_keeps_files_between_builds_and_out_of_layers(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\nARG N\n"
        "RUN --mount=type=cache,target=/cache echo $N >> /cache/log && cat /cache/log > /seen\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--build-arg", "N=1")
    build_ok(base, ctx, "--build-arg", "N=2")
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "seen").read_text() == "1\n2\n"
    assert not (rootfs / "cache").exists()


def test_multi_stage_copy_from_and_unneeded_stages_skipped(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = """\
FROM busybox AS broken
RUN exit 3
FROM busybox AS build
RUN echo compiled > /artifact
FROM scratch
COPY --from=build /artifact /artifact
COPY --from=busybox /bin/busybox /busybox
"""
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert sorted(os.listdir(rootfs)) == ["artifact", "busybox"]
    assert (rootfs / "artifact").read_text() == "compiled\n"


def test_target_builds_up_to_that_stage(base: Path, ctx: Path, tmp_path: Path) -> None:
    dockerfile = "FROM busybox AS one\nRUN touch /one\nFROM one\nRUN touch /two\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--target", "one")
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "one").exists() and not (rootfs / "two").exists()


def test_a_cached_rebuild_gives_the_same_image(base: Path, ctx: Path) -> None:
    write_context(
        ctx, {"Dockerfile": 'FROM busybox\nCOPY f /f\nRUN touch /x\nCMD ["x"]\n', "f": "1"}
    )
    assert build_ok(base, ctx) == build_ok(base, ctx)


def test_a_changed_source_rebuilds_its_step_and_those_after_only(base: Path, ctx: Path) -> None:
    uuid = "cat /proc/sys/kernel/random/uuid"
    dockerfile = f"FROM busybox\nRUN {uuid} > /a\nCOPY f /f\nRUN {uuid} > /b\n"
    write_context(ctx, {"Dockerfile": dockerfile, "f": "1"})
    build_ok(base, ctx)
    before = image_config(base)["rootfs"]["diff_ids"]
    (ctx / "f").write_text("2")
    build_ok(base, ctx)
    after = image_config(base)["rootfs"]["diff_ids"]
    assert after[:-2] == before[:-2]
    assert after[-2] != before[-2] and after[-1] != before[-1]


def test_a_touched_source_with_the_same_content_is_still_cached(base: Path, ctx: Path) -> None:
    write_context(
        ctx,
        {
            "Dockerfile": "FROM busybox\nCOPY f /f\nRUN cat /proc/sys/kernel/random/uuid > /b\n",
            "f": "1",
        },
    )
    first = build_ok(base, ctx)
    os.utime(ctx / "f", (1, 1))
    assert build_ok(base, ctx) == first


def test_source_date_epoch_makes_builds_reproducible(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nCOPY f /f\nRUN echo x > /y\n", "f": "1"})
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    first = build_ok(base, ctx, "--no-cache", env=env)
    (ctx / "f").touch()
    assert build_ok(base, ctx, "--no-cache", env=env) == first
    assert image_config(base)["created"] == "2023-11-14T22:13:20Z"


def test_context_from_a_tar_on_stdin(base: Path, tmp_path: Path) -> None:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        for name, content in (("Dockerfile", b"FROM busybox\nCOPY f /f\n"), ("f", b"tar")):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    result = run_build(base, Path("-"), stdin=data.getvalue())
    assert result.returncode == 0, result.stderr
    assert (unpack(base, "out", tmp_path) / "f").read_text() == "tar"


def test_a_failing_run_leaves_no_tag_mount_or_container(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN echo partial > /p; exit 7\n"})
    cgroups = build_cgroups()
    result = run_build(base, ctx)
    assert result.returncode == 1
    assert "exited with status 7" in result.stderr.strip().splitlines()[-1]
    assert "out" not in Layout.open(base).tags()
    assert overlay_mounts_below(base) == []
    assert not any((base / "porter-build" / "tmp").iterdir())
    assert build_cgroups() <= cgroups


def test_sigint_during_run_cleans_up(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN touch /started; sleep 60\n"})
    cgroups = build_cgroups()
    assert interrupted_build(base, ctx)[0] != 0
    assert "out" not in Layout.open(base).tags()
    assert overlay_mounts_below(base) == []
    assert not any((base / "porter-build" / "tmp").iterdir())
    assert build_cgroups() <= cgroups


@pytest.mark.skipif(not shutil.which("runc"), reason="runc is not installed")
def test_run_through_runc(base: Path, ctx: Path, tmp_path: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN echo runc > /by\n"})
    build_ok(base, ctx, "--runtime", shutil.which("runc") or "runc")
    assert (unpack(base, "out", tmp_path) / "by").read_text() == "runc\n"


@pytest.mark.parametrize(
    ("dockerfile", "message"),
    [
        ("FROM busybox\nCOPY ../x /x\n", "Dockerfile:2: COPY: ../x: forbidden path outside"),
        ("FROM busybox\nCOPY missing /x\n", "Dockerfile:2: COPY: missing: not found"),
        ("FROM busybox\nCOPY link /x\n", "a symlink leads outside the build context"),
        ("FROM busybox\nCOPY --chown=nosuchuser f /f\n", "invalid --chown=nosuchuser"),
        ("FROM busybox\nCOPY --from=7 f /f\n", "--from=7: no such stage"),
        ("FROM busybox AS a\nCOPY --from=a f /f\n", "stage 'a' depends on itself"),
        ("FROM busybox\nBOGUS x\n", "Dockerfile:2: BOGUS: unknown instruction"),
        ("FROM busybox\nEXPOSE 99999\n", "Dockerfile:2: EXPOSE: invalid port range"),
        (
            f"FROM busybox\nADD --checksum=sha256:{'0' * 64} f /f\n",
            "Dockerfile:2: ADD: checksum can't be specified for non-HTTP(S) sources",
        ),
        ("FROM busybox\nCOPY --parents=yes f /x/\n", "expecting a boolean value for flag"),
        ("FROM busybox\nCOPY --parents x/./../f /d/\n", "x/./../f: the path leaves the folder"),
        ("FROM busybox\nADD git://127.0.0.1:1/r.git /d\n", "cannot reach git://127.0.0.1:1/r.git"),
        ("FROM busybox\nADD ssh://git@127.0.0.1:1/r.git /d\n", "cannot reach ssh://git@127.0"),
        ("FROM busybox\nADD git@127.0.0.1:r.git /d\n", "ADD: cannot reach git@127.0.0.1:r.git"),
        ("FROM busybox\nADD git://127.0.0.1:1/r.git#main:../x /d\n", "bad fragment: '../x'"),
        ("FROM busybox\nADD git://127.0.0.1:1/r.git#-x /d\n", "bad fragment: '-x' is not"),
        ("FROM busybox\nCOPY git://127.0.0.1:1/r.git /d\n", "COPY cannot take a git repo"),
    ],
)
def test_bad_input_is_one_line_and_no_tag(
    base: Path, ctx: Path, dockerfile: str, message: str
) -> None:
    write_context(ctx, {"Dockerfile": dockerfile, "f": ""})
    (ctx / "link").symlink_to("/etc/passwd")
    result = run_build(base, ctx)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "out" not in Layout.open(base).tags()


def test_onbuild_triggers_run_in_the_next_build(base: Path, ctx: Path, tmp_path: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nONBUILD COPY f /from-trigger\n", "f": "t"})
    build_ok(base, ctx, tag="parent")
    (ctx / "Dockerfile").write_text("FROM parent\n")
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "from-trigger").read_text() == "t"
    assert "OnBuild" not in image_config(base)["config"]


def test_run_bind_mount_from_a_stage_reads_it_without_copying(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = """\
FROM busybox AS tools
RUN echo from-stage > /note
FROM busybox
RUN --mount=type=bind,from=tools,source=/note,target=/mnt/note cat /mnt/note > /copied
"""
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "copied").read_text() == "from-stage\n"
    assert not (rootfs / "mnt").exists()


def test_add_downloads_a_url_and_checks_its_checksum(base: Path, ctx: Path, tmp_path: Path) -> None:
    import hashlib
    import http.server
    import threading

    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "file.txt").write_text("served\n")
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "served")
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/file.txt"
        digest = "sha256:" + hashlib.sha256(b"served\n").hexdigest()
        dockerfile = f"FROM busybox\nADD --checksum={digest} {url} /downloads/\n"
        write_context(ctx, {"Dockerfile": dockerfile})
        build_ok(base, ctx)
        (ctx / "Dockerfile").write_text(dockerfile.replace(digest, "sha256:" + "0" * 64))
        failed = run_build(base, ctx, tag="bad")
    finally:
        server.shutdown()
    path = unpack(base, "out", tmp_path) / "downloads" / "file.txt"
    assert (path.read_text(), path.stat().st_mode & 0o777) == ("served\n", 0o600)
    assert failed.returncode == 1 and "checksum" in failed.stderr


def test_from_platform_sets_the_stages_platform(base: Path, ctx: Path) -> None:
    write_context(
        ctx, {"Dockerfile": "FROM --platform=linux/arm64/v8 scratch\nCOPY f /f\n", "f": ""}
    )
    build_ok(base, ctx)
    config = image_config(base)
    assert (config["os"], config["architecture"], config.get("variant")) == (
        "linux",
        "arm64",
        "v8",
    )


def test_copy_exclude_leaves_matching_files_out(base: Path, ctx: Path, tmp_path: Path) -> None:
    files = {
        "Dockerfile": "FROM busybox\nCOPY --exclude=*.tmp src/ /src/\n",
        "src/a": "",
        "src/b.tmp": "",
    }
    write_context(ctx, files)
    build_ok(base, ctx)
    assert os.listdir(unpack(base, "out", tmp_path) / "src") == ["a"]


def test_compression_option_picks_the_new_layers_media_type(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nCOPY f /f\n", "f": "z"})
    build_ok(base, ctx, "--compression", "zstd")
    layout = Layout.open(base)
    manifest = json.loads(layout.read_blob(layout.resolve("out")))
    assert manifest["layers"][-1]["mediaType"] == "application/vnd.oci.image.layer.v1.tar+zstd"


def test_reproducible_without_source_date_epoch_uses_the_epoch(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nCOPY f /f\n", "f": "z"})
    env = {"SOURCE_DATE_EPOCH": ""}
    first = build_ok(base, ctx, "--reproducible", "--no-cache", env=env)
    assert build_ok(base, ctx, "--reproducible", "--no-cache", env=env) == first
    assert image_config(base)["created"] == "1970-01-01T00:00:00Z"


def test_arg_scoping_global_args_need_redeclaring_and_do_not_persist(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = """\
ARG GLOBAL=g
FROM busybox
RUN echo "[$GLOBAL]" > /before
ARG GLOBAL
ARG TARGETARCH
RUN echo "[$GLOBAL] [$TARGETARCH]" > /after
"""
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    arch = image_config(base)["architecture"]
    assert (rootfs / "before").read_text() == "[]\n"
    assert (rootfs / "after").read_text() == f"[g] [{arch}]\n"
    assert not any(e.startswith("GLOBAL=") for e in image_config(base)["config"]["Env"])


def test_workdir_is_created_for_the_current_user(base: Path, ctx: Path, tmp_path: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nUSER 1000:1001\nWORKDIR /new/dir\n"})
    build_ok(base, ctx)
    st = (unpack(base, "out", tmp_path) / "new" / "dir").stat()
    assert (st.st_uid, st.st_gid) == (1000, 1001)


def test_iidfile_holds_the_printed_digest(base: Path, ctx: Path, tmp_path: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nENV A=1\n"})
    digest = build_ok(base, ctx, "--iidfile", str(tmp_path / "iid"))
    assert (tmp_path / "iid").read_text() == digest == str(Layout.open(base).resolve("out").digest)


def test_dockerfile_from_stdin_with_a_folder_context(base: Path, ctx: Path, tmp_path: Path) -> None:
    write_context(ctx, {"f": "from-context"})
    build_ok(base, ctx, "-f", "-", stdin=b"FROM busybox\nCOPY f /f\n")
    assert (unpack(base, "out", tmp_path) / "f").read_text() == "from-context"


def test_copy_onto_a_symlink_replaces_the_link_not_its_target(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nCOPY f /linuxrc\n", "f": "plain"})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert not (rootfs / "linuxrc").is_symlink()
    assert (rootfs / "linuxrc").read_text() == "plain"
    assert (rootfs / "bin" / "busybox").stat().st_size > 100_000


def test_run_heredoc_with_a_shebang_runs_as_its_own_file(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = 'FROM busybox\nRUN <<EOF\n#!/bin/sh\necho "$0" > /zero\nEOF\n'
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "zero").read_text() == "/dev/pipes/EOF\n"
    assert not (rootfs / "dev" / "pipes").exists()


def test_a_build_arg_no_arg_declares_is_a_warning_not_an_error(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nARG USED\nENV U=$USED\n"})
    command = [str(PORTER_IMAGE), "build", "-t", f"{base}:out"]
    args = ["--build-arg", "USED=1", "--build-arg", "UNUSED=2", str(ctx)]
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "warning: build-args not consumed: UNUSED" in result.stderr
    assert "U=1" in image_config(base)["config"]["Env"]


def test_a_frontend_other_than_docker_dockerfile_is_a_warning_and_the_build_goes_on(
    base: Path, ctx: Path
) -> None:
    dockerfile = "# syntax=example.com/frontend:1\nFROM busybox\nLABEL built=yes\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    command = [str(PORTER_IMAGE), "build", "-t", f"{base}:out", str(ctx)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "warning: # syntax=example.com/frontend:1: only the built-in" in result.stderr
    assert image_config(base)["config"]["Labels"] == {"built": "yes"}


def test_a_writable_context_bind_never_changes_the_context(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\n"
        "RUN --mount=type=bind,source=src,target=/src,rw "
        "echo scribble > /src/a && cat /src/a > /seen\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile, "src/a": "original"})
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "seen").read_text() == "scribble\n"
    assert (ctx / "src" / "a").read_text() == "original"


def test_network_none_leaves_run_only_loopback(base: Path, ctx: Path, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nRUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' > /ifaces\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--network", "none")
    assert (unpack(base, "out", tmp_path) / "ifaces").read_text().split() == ["lo"]


def test_a_change_under_a_context_bind_mount_reruns_the_run(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = "FROM busybox\nRUN --mount=type=bind,source=src,target=/src cat /src/v > /v\n"
    write_context(ctx, {"Dockerfile": dockerfile, "src/v": "1"})
    build_ok(base, ctx)
    (ctx / "src" / "v").write_text("2")
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "v").read_text() == "2"


def test_source_date_epoch_is_not_served_layers_cached_without_it(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nCOPY f /f\n", "f": "1"})
    build_ok(base, ctx)
    with_epoch = build_ok(base, ctx, env={"SOURCE_DATE_EPOCH": "1700000000"})
    fresh = build_ok(base, ctx, "--no-cache", env={"SOURCE_DATE_EPOCH": "1700000000"})
    assert with_epoch == fresh
