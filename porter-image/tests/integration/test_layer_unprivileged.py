"""Applying a layer as an unprivileged user: device nodes are refused with a clear error.

The user runs the library from Porter installed out of its wheel in a folder every user can
reach (the session's `installed_porter`): the dev venv may lie in a checkout closed to it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from porter_image.layer.testing import archive, device, file, snapshot

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another uid needs root"),
]

NOBODY = 65534
APPLY = """
import sys
from pathlib import Path
from porter_specs import media_types
from porter_image.layer import LayerError, apply_layer
try:
    apply_layer(sys.stdin.buffer, media_types.LAYER_TAR, Path(sys.argv[1]))
except LayerError as err:
    print(f"{type(err).__name__}: {err}")
    sys.exit(1)
"""


def _apply_as_nobody(python: Path, layer: Path, dest: Path) -> subprocess.CompletedProcess[str]:
    """Apply `layer` to `dest` in a child of `python` running as nobody; the child reaches
    `dest` through an inherited descriptor, since pytest's private temp folder is closed to
    other users."""
    dest_fd = os.open(dest, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with open(layer, "rb") as stdin:
            return subprocess.run(
                [python, "-c", APPLY, f"/proc/self/fd/{dest_fd}"],
                stdin=stdin,
                pass_fds=(dest_fd,),
                user=NOBODY,
                group=NOBODY,
                extra_groups=[],
                capture_output=True,
                text=True,
                timeout=60,
            )
    finally:
        os.close(dest_fd)


def test_device_node_is_refused_when_not_root(tmp_path: Path, installed_porter) -> None:
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    dest.mkdir()
    outside.mkdir()
    (outside / "canary").write_bytes(b"canary")
    os.chown(dest, NOBODY, NOBODY)
    layer = tmp_path / "layer.tar"
    layer.write_bytes(archive(file("before", b"1"), device("dev/null")))
    before = snapshot(outside)

    result = _apply_as_nobody(installed_porter.python, layer, dest)

    assert result.returncode == 1, result.stderr
    assert result.stdout.strip() == (
        "HostileLayerError: layer entry 'dev/null': "
        "device nodes are not allowed (not running as root)"
    )
    assert not (dest / "dev" / "null").exists()
    assert snapshot(outside) == before


def test_unprivileged_apply_keeps_everything_else(tmp_path: Path, installed_porter) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    os.chown(dest, NOBODY, NOBODY)
    layer = tmp_path / "layer.tar"
    layer.write_bytes(archive(file("etc/motd", b"hi", uid=0, gid=0, mode=0o640)))

    result = _apply_as_nobody(installed_porter.python, layer, dest)

    assert result.returncode == 0, result.stdout + result.stderr
    st = os.stat(dest / "etc" / "motd")
    assert (st.st_uid, oct(st.st_mode & 0o777)) == (NOBODY, oct(0o640))
