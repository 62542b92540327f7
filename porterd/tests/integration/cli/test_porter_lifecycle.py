"""porter end to end against a real daemon (dockerd and porterd): the container life cycle,
images, volumes, files in and out, with docker's output and exit codes."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_daemons import Target

pytestmark = pytest.mark.integration

RUN = ("run", "--network", "none")


@pytest.fixture
def sleeper(target: Target) -> Iterator[str]:
    """A running container with output on both streams; removed afterwards."""
    name = target.name()
    result = target.porter(
        *RUN,
        "-d",
        "--name",
        name,
        target.image,
        "sh",
        "-c",
        "echo out; echo err >&2; exec sleep 300",
    )
    assert result.returncode == 0, result.stderr
    try:
        yield name
    finally:
        target.porter("rm", "-f", name)


def test_run_pulls_a_missing_image(target: Target) -> None:
    target.porter("rmi", "-f", target.image)
    result = target.porter(*RUN, "--rm", target.image, "echo", "hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\n"
    assert f"Unable to find image '{target.image}' locally" in result.stderr


def test_run_exits_with_the_containers_code_and_keeps_stderr_apart(target: Target) -> None:
    result = target.porter(*RUN, "--rm", target.image, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (result.returncode, result.stdout) == (3, "out\n")
    assert result.stderr.endswith("err\n")


def test_run_of_a_missing_command_exits_127(target: Target) -> None:
    result = target.porter(*RUN, "--rm", target.image, "/no/such/command")
    assert result.returncode == 127
    assert len(result.stderr.strip().splitlines()) == 1


def test_run_passes_stdin_with_i(target: Target) -> None:
    result = target.porter(
        *RUN, "--rm", "-i", target.image, "sh", "-c", "tr a-z A-Z", input="shout\n"
    )
    assert (result.returncode, result.stdout) == (0, "SHOUT\n")


def test_run_flags_reach_the_container(target: Target) -> None:
    result = target.porter(
        *RUN, "--rm", "-e", "GREETING=hi", "-w", "/tmp", "-u", "65534", "--hostname", "box",
        target.image, "sh", "-c", 'echo "$GREETING $(pwd) $(id -u) $(hostname)"',
    )  # fmt: skip
    assert result.stdout == "hi /tmp 65534 box\n", result.stderr


def test_a_name_in_use_is_refused_with_125(target: Target, sleeper: str) -> None:
    result = target.porter(*RUN, "--name", sleeper, target.image, "true")
    assert result.returncode == 125
    assert len(result.stderr.strip().splitlines()) == 1


def test_ps_lists_running_and_with_a_all_stopped_containers(target: Target, sleeper: str) -> None:
    names = target.porter("ps", "--format", "{{.Names}} {{.State}}").stdout.splitlines()
    assert f"{sleeper} running" in names
    assert target.porter("stop", "-t", "1", sleeper).stdout == f"{sleeper}\n"
    assert sleeper not in target.porter("ps", "--format", "{{.Names}}").stdout.split()
    status = target.porter(
        "ps", "-a", "--filter", f"name={sleeper}", "--format", "{{.Status}}"
    ).stdout
    assert status.startswith("Exited (")


def test_stop_start_restart_pause_unpause(target: Target, sleeper: str) -> None:
    def state() -> str:
        return target.porter("inspect", "-f", "{{.State.Status}}", sleeper).stdout.strip()

    for verb, expected in [
        ("pause", "paused"),
        ("unpause", "running"),
        ("stop", "exited"),
        ("start", "running"),
        ("restart", "running"),
    ]:
        result = target.porter(verb, sleeper)
        assert result.returncode == 0, f"{verb}: {result.stderr}"
        assert state() == expected, verb


def test_kill_then_wait_prints_the_exit_code(target: Target, sleeper: str) -> None:
    assert target.porter("kill", sleeper).returncode == 0
    assert target.porter("wait", sleeper).stdout == "137\n"


def test_logs_keep_stdout_and_stderr_apart(target: Target, sleeper: str) -> None:
    result = target.porter("logs", sleeper)
    assert (result.stdout, result.stderr) == ("out\n", "err\n")
    last = target.porter("logs", "--tail", "1", "-t", sleeper)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z (out|err)\n", last.stdout + last.stderr)


def test_exec_runs_in_the_container_with_its_exit_code(target: Target, sleeper: str) -> None:
    result = target.porter("exec", sleeper, "sh", "-c", "echo inside; exit 4")
    assert (result.returncode, result.stdout) == (4, "inside\n")
    piped = target.porter("exec", "-i", sleeper, "cat", input="through stdin\n")
    assert piped.stdout == "through stdin\n"


@pytest.mark.parametrize("tty", [(), ("-t",)], ids=["plain", "tty"])
def test_exec_of_a_missing_command_exits_127(target: Target, sleeper: str, tty: tuple) -> None:
    if target.kind == "dockerd":
        pytest.skip(
            "Debian's dockerd 20.10 records 126 for every exec the runtime refuses; moby's"
            " translateContainerdStartErr, which porterd follows, sets 127 for a missing command"
        )
    result = target.porter("exec", *tty, sleeper, "no-such-command")
    assert result.returncode == 127, result.stderr


@pytest.mark.parametrize("path", ["/etc/passwd", "/etc"], ids=["not-executable", "directory"])
def test_exec_of_a_file_that_cannot_be_run_exits_126(
    target: Target, sleeper: str, path: str
) -> None:
    result = target.porter("exec", sleeper, path)
    assert result.returncode == 126, result.stderr


def test_rename_top_and_inspect(target: Target, sleeper: str) -> None:
    top = target.porter("top", sleeper).stdout
    assert "sleep 300" in top
    new_name = target.name("renamed")
    assert target.porter("rename", sleeper, new_name).returncode == 0
    try:
        document = json.loads(target.porter("container", "inspect", new_name).stdout)
        assert document[0]["Name"] == f"/{new_name}"
    finally:
        target.porter("rename", new_name, sleeper)


def test_cp_into_and_out_of_a_container(target: Target, sleeper: str, tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    (source / "note.txt").write_text("copied in\n")
    assert target.porter("cp", str(source), f"{sleeper}:/tmp/dir").returncode == 0
    assert target.porter("exec", sleeper, "cat", "/tmp/dir/note.txt").stdout == "copied in\n"
    out = tmp_path / "out"
    result = target.porter("cp", f"{sleeper}:/tmp/dir", str(out))
    assert result.returncode == 0, result.stderr
    assert (out / "note.txt").read_text() == "copied in\n"
    assert "A /tmp/dir" in target.porter("diff", sleeper).stdout.splitlines()


@pytest.fixture
def tmpfs_sleeper(target: Target) -> Iterator[str]:
    """A running container with a tmpfs on /scratch holding /scratch/inside."""
    name = target.name("tmpfs")
    script = "echo in-tmpfs > /scratch/inside; exec sleep 300"
    result = target.porter(
        *RUN, "-d", "--name", name, "--tmpfs", "/scratch", target.image, "sh", "-c", script
    )
    assert result.returncode == 0, result.stderr
    try:
        yield name
    finally:
        target.porter("rm", "-f", name)


def test_cp_goes_under_a_running_containers_tmpfs_as_dockers_does(
    target: Target, tmpfs_sleeper: str, tmp_path: Path
) -> None:
    """docker cp resolves paths in the container's root filesystem and its volumes, not in
    the running container's mount namespace (docker's documentation: tmpfs mounts cannot be
    copied): a file copied in lands under the tmpfs, unseen until the container stops, and a
    copy out reads the folder under it."""
    source = tmp_path / "note.txt"
    source.write_text("from the host\n")
    assert target.porter("cp", str(source), f"{tmpfs_sleeper}:/scratch/note.txt").returncode == 0
    listed = target.porter("exec", tmpfs_sleeper, "ls", "/scratch").stdout.split()
    assert listed == ["inside"]
    copied = target.porter("cp", f"{tmpfs_sleeper}:/scratch", str(tmp_path / "out"))
    assert copied.returncode == 0, copied.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["note.txt"]
    assert target.porter("cp", f"{tmpfs_sleeper}:/scratch/inside", "-").returncode == 1


def test_export_is_the_containers_filesystem(target: Target, sleeper: str, tmp_path: Path) -> None:
    archive = tmp_path / "fs.tar"
    assert target.porter("export", "-o", str(archive), sleeper).returncode == 0
    with tarfile.open(archive) as tar:
        names = {name.removeprefix("./") for name in tar.getnames()}
    assert "bin/busybox" in names


def test_commit_then_run_the_new_image(target: Target, sleeper: str) -> None:
    assert target.porter("exec", sleeper, "sh", "-c", "echo committed > /marker").returncode == 0
    image = f"{target.name('img')}:v1"
    result = target.porter("commit", sleeper, image)
    assert result.returncode == 0, result.stderr
    try:
        assert target.porter(*RUN, "--rm", image, "cat", "/marker").stdout == "committed\n"
        assert image.split(":")[0] in target.porter("images", "--format", "{{.Repository}}").stdout
    finally:
        target.porter("rmi", image)


def test_named_volume_outlives_its_containers(target: Target) -> None:
    volume = target.name("vol")
    assert target.porter("volume", "create", volume).stdout == f"{volume}\n"
    try:
        assert (
            target.porter(
                *RUN,
                "--rm",
                "-v",
                f"{volume}:/data",
                target.image,
                "sh",
                "-c",
                "echo kept > /data/f",
            ).returncode
            == 0
        )
        assert (
            target.porter(
                *RUN, "--rm", "-v", f"{volume}:/data", target.image, "cat", "/data/f"
            ).stdout
            == "kept\n"
        )
        assert volume in target.porter("volume", "ls", "-q").stdout.split()
        assert target.porter("volume", "inspect", "-f", "{{.Name}}", volume).stdout == f"{volume}\n"
    finally:
        assert target.porter("volume", "rm", volume).returncode == 0


def test_save_and_load_round_trip(target: Target, tmp_path: Path) -> None:
    image = f"{target.name('saved')}:v1"
    assert target.porter("pull", "-q", target.image).returncode == 0
    assert target.porter("tag", target.image, image).returncode == 0
    archive = tmp_path / "image.tar"
    assert target.porter("save", "-o", str(archive), image).returncode == 0
    assert target.porter("rmi", image).returncode == 0
    result = target.porter("load", "-i", str(archive))
    assert result.returncode == 0, result.stderr
    try:
        assert target.porter("image", "inspect", "-f", "{{.Os}}", image).stdout == "linux\n"
    finally:
        target.porter("rmi", image)


def test_history_and_images_describe_the_image(target: Target) -> None:
    assert target.porter("pull", target.image).returncode == 0
    assert "porter-image import" in target.porter("history", "--no-trunc", target.image).stdout
    ids = target.porter("images", "-q").stdout.split()
    assert all(len(i) == 12 for i in ids) and ids


def test_an_unknown_container_is_one_error_line_and_exit_1(target: Target) -> None:
    result = target.porter("rm", "porter-cli-no-such-container")
    assert result.returncode == 1
    assert result.stderr.startswith("porter: Error response from daemon: ")
    assert len(result.stderr.splitlines()) == 1


def test_events_report_a_containers_life(target: Target) -> None:
    name = target.name()
    before = target.porter("version", "--format", "{{.Server.Version}}")
    assert before.returncode == 0
    import time

    since = f"{time.time() - 1:.3f}"
    assert target.porter(*RUN, "--rm", "--name", name, target.image, "true").returncode == 0
    until = f"{time.time() + 1:.3f}"
    result = target.porter(
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        f"container={name}",
        "--format",
        "{{.Action}}",
    )
    actions = result.stdout.split()
    assert {"create", "start", "die"} <= set(actions), result.stderr


def test_porter_and_docker_manage_the_same_containers(target: Target) -> None:
    by_docker = target.name("docker")
    result = target.docker(*RUN, "-d", "--name", by_docker, target.image, "sleep", "300")
    assert result.returncode == 0, result.stderr
    try:
        assert by_docker in target.porter("ps", "--format", "{{.Names}}").stdout.split()
        assert target.porter("stop", "-t", "1", by_docker).returncode == 0
        assert target.docker("inspect", "-f", "{{.State.Status}}", by_docker).stdout == "exited\n"
    finally:
        assert target.porter("rm", "-f", by_docker).returncode == 0
    assert target.docker("ps", "-a", "-q", "--filter", f"name={by_docker}").stdout == ""


def test_push_then_pull_by_the_new_name(target: Target) -> None:
    registry = target.image.split("/")[0]
    pushed = f"{registry}/{target.name('pushed')}:v1"
    assert target.porter("pull", "-q", target.image).returncode == 0
    assert target.porter("tag", target.image, pushed).returncode == 0
    result = target.porter("push", pushed)
    assert result.returncode == 0, result.stderr
    assert "v1: digest: sha256:" in result.stdout
    assert target.porter("rmi", pushed).returncode == 0
    assert target.porter("pull", "-q", pushed).stdout == f"{pushed}\n"
    target.porter("rmi", pushed)


def test_an_exported_filesystem_imports_as_an_image(
    target: Target, sleeper: str, tmp_path: Path
) -> None:
    archive = tmp_path / "fs.tar"
    assert target.porter("export", "-o", str(archive), sleeper).returncode == 0
    image = f"{target.name('imported')}:v1"
    result = target.porter("import", "--change", 'CMD ["echo", "from import"]', str(archive), image)
    assert result.returncode == 0, result.stderr
    try:
        assert target.porter(*RUN, "--rm", image).stdout == "from import\n"
    finally:
        target.porter("rmi", image)


def test_create_then_start_attached_with_stdin(target: Target) -> None:
    name = target.name("created")
    created = target.porter(
        "create",
        "-i",
        "--name",
        name,
        "--network",
        "none",
        target.image,
        "sh",
        "-c",
        "read line; echo got $line; exit 6",
    )
    assert created.returncode == 0, created.stderr
    try:
        assert (
            target.porter("ps", "-a", "--filter", f"name={name}", "--format", "{{.State}}").stdout
            == "created\n"
        )
        result = target.porter("start", "-ai", name, input="hello\n")
        assert (result.returncode, result.stdout) == (6, "got hello\n"), result.stderr
    finally:
        target.porter("rm", "-f", name)
