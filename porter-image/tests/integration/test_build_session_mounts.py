"""porter-image build: RUN --mount=type=secret and type=ssh, read back from the built image."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
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
from image_host_features import needs
from porter_image.image import load_image
from porter_image.layout import Layout

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

SECRET = "s3cr3t-value-8d1f"


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "token.txt"
    path.write_text(SECRET)
    return path


def layer_entries(layout: Path, tag: str = "out") -> dict[str, bytes]:
    """Every file of every layer of the image: its path and bytes (later layers win)."""
    image = load_image(Layout.open(layout), tag)
    found: dict[str, bytes] = {}
    for layer in image.manifest.layers:
        blob = layout / "blobs" / layer.digest.algorithm / layer.digest.encoded
        with tarfile.open(blob, "r:*") as tar:
            for member in tar:
                data = tar.extractfile(member) if member.isfile() else None
                found[member.name.removeprefix("./")] = data.read() if data else b""
    return found


def all_blobs_text(layout: Path) -> bytes:
    """The bytes of every blob in the layout, gzip layers uncompressed."""
    out = b""
    for blob in (layout / "blobs" / "sha256").iterdir():
        data = blob.read_bytes()
        out += gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    return out


def test_a_secret_file_is_readable_at_run_secrets_id_with_mode_0400(
    base: Path, ctx: Path, secret_file: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\nRUN --mount=type=secret,id=tok "
        "cp /run/secrets/tok /seen && stat -c '%a %u %g' /run/secrets/tok > /mode\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--secret", f"id=tok,src={secret_file}")
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "seen").read_text() == SECRET
    assert (rootfs / "mode").read_text() == "400 0 0\n"


def test_a_secret_never_reaches_a_layer_the_config_or_the_history(
    base: Path, ctx: Path, secret_file: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\nRUN --mount=type=secret,id=tok,env=TOKEN,target=/run/secrets/tok "
        'test "$TOKEN" = "$(cat /run/secrets/tok)" && touch /ran\n'
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--secret", f"id=tok,src={secret_file}")
    entries = layer_entries(base)
    assert "ran" in entries
    assert not [name for name in entries if name.startswith("run/secrets")]
    assert SECRET.encode() not in all_blobs_text(base)
    assert SECRET not in json.dumps(image_config(base))


RECORDING_RUNTIME = """#!/bin/sh
# an OCI runtime that runs nothing: it records the bundle of `run` and a copy of its config
while [ $# -gt 0 ]; do
    [ "$1" = --bundle ] && bundle=$2 && echo "$bundle" > {record}/bundle \\
        && cp "$bundle/config.json" {record}/config.json
    shift
done
exit 0
"""


def test_a_secret_in_the_environment_is_never_written_below_the_layout(
    base: Path, ctx: Path, secret_file: Path, tmp_path: Path
) -> None:
    """The RUN's config.json holds the secret: its bundle is the private folder, removed after."""
    record = tmp_path / "record"
    record.mkdir()
    runtime = tmp_path / "recording-runtime"
    runtime.write_text(RECORDING_RUNTIME.format(record=record))
    runtime.chmod(0o755)
    dockerfile = "FROM busybox\nRUN --mount=type=secret,id=tok,env=TOKEN true\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--secret", f"id=tok,src={secret_file}", "--runtime", str(runtime))
    bundle = Path((record / "bundle").read_text().strip())
    assert f"TOKEN={SECRET}" in json.loads((record / "config.json").read_text())["process"]["env"]
    assert base.resolve() not in bundle.resolve().parents
    assert not bundle.exists()


def test_a_secret_from_a_variable_at_a_target_with_its_mode_and_owner(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\nRUN --mount=type=secret,id=api,target=/etc/api.key,mode=0440,uid=7,gid=9 "
        "cp /etc/api.key /seen && stat -c '%a %u %g' /etc/api.key > /mode\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--secret", "id=api,env=PORTER_TEST_API", env={"PORTER_TEST_API": SECRET})
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "seen").read_text() == SECRET
    assert (rootfs / "mode").read_text() == "440 7 9\n"
    assert not (rootfs / "etc" / "api.key").exists()


def test_a_secret_with_env_and_no_target_is_only_a_variable(
    base: Path, ctx: Path, secret_file: Path, tmp_path: Path
) -> None:
    dockerfile = (
        "FROM busybox\nRUN --mount=type=secret,id=tok,env=TOKEN "
        'echo "$TOKEN" > /seen && ls -A /run/secrets > /listing 2>&1 || true\n'
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx, "--secret", f"id=tok,src={secret_file}")
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "seen").read_text() == SECRET + "\n"
    assert "tok" not in (rootfs / "listing").read_text()


def test_a_changed_secret_does_not_rerun_a_cached_step(
    base: Path, ctx: Path, secret_file: Path, tmp_path: Path
) -> None:
    write_context(
        ctx, {"Dockerfile": "FROM busybox\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /v\n"}
    )
    first = build_ok(base, ctx, "--secret", f"id=tok,src={secret_file}")
    secret_file.write_text("another value")
    assert build_ok(base, ctx, "--secret", f"id=tok,src={secret_file}") == first
    assert (unpack(base, "out", tmp_path) / "v").read_text() == SECRET


def test_a_secret_the_build_was_not_given_is_left_out(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = "FROM busybox\nRUN --mount=type=secret,id=absent test ! -e /run/secrets/absent\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    assert not (unpack(base, "out", tmp_path) / "run" / "secrets").exists()


def test_a_required_secret_the_build_was_not_given_is_one_error_line(base: Path, ctx: Path) -> None:
    dockerfile = "FROM busybox\nRUN --mount=type=secret,id=absent,required=true true\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    result = run_build(base, ctx)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1 and "Dockerfile:2: RUN: secret 'absent' is required" in lines[0]
    assert "out" not in Layout.open(base).tags()


@pytest.mark.parametrize("option", ["uid=4294967296", "gid=-2"])
def test_a_secret_mount_owner_out_of_range_is_one_error_line(
    base: Path, ctx: Path, secret_file: Path, option: str
) -> None:
    dockerfile = f"FROM busybox\nRUN --mount=type=secret,id=tok,{option} true\n"
    write_context(ctx, {"Dockerfile": dockerfile})
    result = run_build(base, ctx, "--secret", f"id=tok,src={secret_file}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "porter-image: error: Dockerfile:2: RUN: --mount type=secret: invalid mode, uid or gid"
    ]
    assert "out" not in Layout.open(base).tags()


def test_a_secret_file_that_does_not_exist_is_a_usage_error(base: Path, ctx: Path) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\n"})
    result = run_build(base, ctx, "--secret", f"id=x,src={ctx}/missing")
    assert result.returncode == 2
    assert "secret 'x'" in result.stderr and "No such file" in result.stderr


# -- ssh -------------------------------------------------------------------------------------


def host_program_context(ctx: Path, program: str) -> None:
    """Put the host's `program` and the libraries it links into the context under host/."""
    path = shutil.which(program)
    assert path is not None
    libraries = subprocess.run(["ldd", path], capture_output=True, text=True, check=True)
    files = [path] + [
        word for line in libraries.stdout.splitlines() for word in line.split() if word[:1] == "/"
    ]
    for name in files:
        dest = ctx / "host" / name.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.realpath(name), dest)


def missing_ssh_tools() -> str | None:
    absent = [p for p in ("ssh-agent", "ssh-add", "ssh-keygen", "ldd") if not shutil.which(p)]
    return f"needs {', '.join(absent)} on the host" if absent else None


@pytest.fixture
def ssh_key(tmp_path: Path) -> tuple[Path, str]:
    """A new ed25519 key without a passphrase, and its fingerprint."""
    key = tmp_path / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "porter-test", "-f", str(key)],
        check=True,
    )
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(key)], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    return key, fingerprint


SSH_DOCKERFILE = (
    "FROM busybox\nCOPY host/ /\n"
    "RUN --mount=type=ssh echo $SSH_AUTH_SOCK > /sock && ssh-add -l > /keys\n"
)


@needs(missing_ssh_tools())
def test_an_ssh_mount_reaches_an_agent_holding_the_given_key_file(
    base: Path, ctx: Path, ssh_key: tuple[Path, str], tmp_path: Path
) -> None:
    host_program_context(ctx, "ssh-add")
    write_context(ctx, {"Dockerfile": SSH_DOCKERFILE})
    build_ok(base, ctx, "--ssh", f"default={ssh_key[0]}")
    rootfs = unpack(base, "out", tmp_path)
    assert (rootfs / "sock").read_text() == "/run/buildkit/ssh_agent.0\n"
    assert ssh_key[1] in (rootfs / "keys").read_text()
    assert not (rootfs / "run" / "buildkit").exists()


@needs(missing_ssh_tools())
def test_an_ssh_mount_forwards_to_the_agent_socket_of_ssh_auth_sock(
    base: Path, ctx: Path, ssh_key: tuple[Path, str], tmp_path: Path
) -> None:
    sock = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        subprocess.run(
            ["ssh-add", "-q", str(ssh_key[0])],
            env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
            check=True,
            timeout=30,
        )
        host_program_context(ctx, "ssh-add")
        write_context(ctx, {"Dockerfile": SSH_DOCKERFILE})
        build_ok(base, ctx, "--ssh", "default", env={"SSH_AUTH_SOCK": str(sock)})
    finally:
        agent.terminate()
        agent.wait()
    assert ssh_key[1] in (unpack(base, "out", tmp_path) / "keys").read_text()


def test_an_ssh_mount_the_build_was_not_given_is_left_out(
    base: Path, ctx: Path, tmp_path: Path
) -> None:
    dockerfile = 'FROM busybox\nRUN --mount=type=ssh test -z "$SSH_AUTH_SOCK" && touch /ran\n'
    write_context(ctx, {"Dockerfile": dockerfile})
    build_ok(base, ctx)
    assert (unpack(base, "out", tmp_path) / "ran").exists()


def test_a_required_ssh_mount_the_build_was_not_given_is_one_error_line(
    base: Path, ctx: Path
) -> None:
    write_context(ctx, {"Dockerfile": "FROM busybox\nRUN --mount=type=ssh,required=true true\n"})
    result = run_build(base, ctx)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert len(lines) == 1 and "RUN: ssh agent 'default' is required" in lines[0]


def test_a_failing_run_leaves_no_secret_file_on_the_host(
    base: Path, ctx: Path, secret_file: Path
) -> None:
    dockerfile = (
        "FROM busybox\nRUN --mount=type=secret,id=tok --mount=type=cache,target=/c,id=probe "
        "grep /run/secrets/tok /proc/self/mountinfo > /c/mountinfo; exit 3\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    result = run_build(base, ctx, "--secret", f"id=tok,src={secret_file}")
    assert result.returncode == 1
    (seen,) = (base / "porter-build" / "cache-mounts").glob("*/mountinfo")
    # a bind mount's line names the file inside its filesystem: where the secret was written,
    # in a private folder made in /dev/shm or else in the temporary folder
    inside = Path(seen.read_text().split()[3])
    assert (inside.name, inside.parent.name[:13]) == ("secret-0", "porter-build-")
    for parent in ("/dev/shm", tempfile.gettempdir()):
        assert not Path(parent, inside.parent.name).exists()


def processes_naming(text: str) -> list[str]:
    """The command lines of the processes that have `text` in theirs."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if text in line:
            found.append(line)
    return found


@needs(missing_ssh_tools())
def test_ctrl_c_in_a_run_leaves_no_secret_folder_and_no_ssh_agent(
    base: Path, ctx: Path, secret_file: Path, ssh_key: tuple[Path, str]
) -> None:
    dockerfile = (
        "FROM busybox\nRUN --mount=type=secret,id=tok --mount=type=ssh "
        "--mount=type=cache,target=/c,id=probe-interrupted "
        "grep /run/secrets/tok /proc/self/mountinfo > /c/mountinfo; sleep 60\n"
    )
    write_context(ctx, {"Dockerfile": dockerfile})
    args = ("--secret", f"id=tok,src={secret_file}", "--ssh", f"default={ssh_key[0]}")
    status, _ = interrupted_build(base, ctx, *args)
    assert status == 130
    (seen,) = (base / "porter-build" / "cache-mounts").glob("*/mountinfo")
    folder = Path(seen.read_text().split()[3]).parent.name
    assert folder.startswith("porter-build-")
    for parent in ("/dev/shm", tempfile.gettempdir()):
        assert not Path(parent, folder).exists()
    assert processes_naming(folder) == []
