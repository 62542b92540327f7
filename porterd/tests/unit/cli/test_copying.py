"""cp out of a container: entries land under the destination, the top one renamed as docker
does, and nothing in the archive can write outside it."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from porter_cli.container.copying import extract
from porter_cli.errors import CliError


def archive(*members: tuple[str, str, str]) -> tarfile.TarFile:
    """A tar read as a stream, of (name, kind, data-or-link) members."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, kind, value in members:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind in ("sym", "hard"):
                info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
                info.linkname = value
                tar.addfile(info)
            else:
                info.size, info.mode = len(value), 0o644
                tar.addfile(info, io.BytesIO(value.encode()))
    out.seek(0)
    return tarfile.open(fileobj=out, mode="r|")


def test_the_top_entry_is_renamed_to_the_destinations_name(tmp_path: Path) -> None:
    extract(archive(("dir", "dir", ""), ("dir/a.txt", "file", "a")), tmp_path, "dir", "copy")
    assert (tmp_path / "copy" / "a.txt").read_text() == "a"


def test_into_an_existing_folder_the_names_stay(tmp_path: Path) -> None:
    extract(archive(("note.txt", "file", "n")), tmp_path, "note.txt", None)
    assert (tmp_path / "note.txt").read_text() == "n"


@pytest.mark.parametrize(
    "members",
    [
        [("../escape.txt", "file", "x")],
        [("/etc/escape.txt", "file", "x")],
        [("dir/../../escape.txt", "file", "x")],
        [("link", "sym", "/etc"), ("link/escape.txt", "file", "x")],
        [("hard", "hard", "../../etc/passwd")],
    ],
)
def test_entries_that_leave_the_destination_are_refused(tmp_path: Path, members: list) -> None:
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(CliError, match="leave"):
        extract(archive(*members), target, "x", None)
    assert not (tmp_path / "escape.txt").exists()
