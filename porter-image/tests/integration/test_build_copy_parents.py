"""COPY --parents and ADD --parents: each source keeps its folders under the destination,
below the `/./` pivot when the source has one; each test reads the image it built."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from build_support import NEEDS_ROOT, build_ok, run_build, unpack, write_context

pytestmark = [pytest.mark.integration, NEEDS_ROOT]

FILES = {"x/a.txt": "xa", "y/a.txt": "ya", "x/b.md": "xb", "x/y/file": "xyf", "x/y/z/deep": "d"}


@pytest.fixture
def layout(busybox_image: tuple[Path, str], tmp_path: Path) -> Path:
    """A layout of this test's own holding the busybox image tagged `busybox`."""
    shutil.copytree(busybox_image[0], tmp_path / "layout")
    return tmp_path / "layout"


def built_rootfs(layout: Path, tmp_path: Path, dockerfile: str) -> Path:
    """Build `dockerfile` over a context holding FILES (and what the test wrote there)."""
    context = write_context(tmp_path / "context", {**FILES, "Dockerfile": dockerfile})
    (context / "x").chmod(0o750)
    build_ok(layout, context)
    return unpack(layout, "out", tmp_path)


def built_files(layout: Path, tmp_path: Path, dockerfile: str, under: str) -> dict[str, str]:
    """The files under the folder `under` in the image built, by their path below it."""
    root = built_rootfs(layout, tmp_path, dockerfile) / under.lstrip("/")
    return {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


XA, YA = {"x/a.txt": "xa"}, {"y/a.txt": "ya"}


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        pytest.param("COPY --parents x/a.txt ./y/a.txt /p/", XA | YA, id="folders"),
        pytest.param("COPY --parents ./x/./y/file /p", {"y/file": "xyf"}, id="pivot"),
        pytest.param("COPY --parents */*.txt /p", XA | YA, id="wildcard"),
        pytest.param(
            "COPY --parents x/./*/file x/./*.md /p/",
            {"y/file": "xyf", "b.md": "xb"},
            id="pivot-glob",
        ),
        pytest.param(
            "COPY --parents x/y /p", {"x/y/file": "xyf", "x/y/z/deep": "d"}, id="folder-source"
        ),
        pytest.param("COPY --parents=false x/y/file /p/", {"file": "xyf"}, id="parents-false"),
    ],
)
def test_where_the_sources_land_under_the_destination(
    layout: Path, tmp_path: Path, instruction: str, expected: dict[str, str]
) -> None:
    assert built_files(layout, tmp_path, f"FROM busybox\n{instruction}\n", "/p") == expected


def test_made_folders_keep_the_source_folders_mode_and_take_the_chown(
    layout: Path, tmp_path: Path
) -> None:
    dockerfile = "FROM busybox\nCOPY --parents --chown=1000:1001 x/y/file /p/\n"
    root = built_rootfs(layout, tmp_path, dockerfile)
    made = [os.stat(root / "p" / name) for name in ("x", "x/y", "x/y/file")]
    assert [(st.st_mode & 0o7777, st.st_uid, st.st_gid) for st in made] == [
        (0o750, 1000, 1001),
        (0o755, 1000, 1001),
        (0o644, 1000, 1001),
    ]


def test_existing_folders_on_the_way_are_left_as_they_are(layout: Path, tmp_path: Path) -> None:
    write_context(tmp_path / "context", {"usr/app": "app"})
    (tmp_path / "context" / "usr").chmod(0o700)
    dockerfile = "FROM busybox\nCOPY --parents --chown=1000 usr/app /\n"
    usr = built_rootfs(layout, tmp_path, dockerfile) / "usr"
    st, app = os.stat(usr), os.stat(usr / "app")
    assert (st.st_mode & 0o7777, st.st_uid, app.st_uid) == (0o755, 0, 1000)


@pytest.mark.parametrize("source", ["/out/./lib/*/f", "/out/./**/f"])
def test_parents_from_another_stage(layout: Path, tmp_path: Path, source: str) -> None:
    dockerfile = f"""\
FROM busybox AS made
RUN mkdir -p /out/lib/one /out/lib/two && echo 1 > /out/lib/one/f && echo 2 > /out/lib/two/f
FROM busybox
COPY --parents --from=made {source} /copied/
"""
    files = built_files(layout, tmp_path, dockerfile, "/copied")
    assert files == {"lib/one/f": "1\n", "lib/two/f": "2\n"}


def test_add_parents_unpacks_a_tar_in_its_folder(layout: Path, tmp_path: Path) -> None:
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as tar:
        info = tarfile.TarInfo("inside")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"in"))
    write_context(tmp_path / "context", {"pkg/files.tar": tar_bytes.getvalue()})
    dockerfile = "FROM busybox\nADD --parents pkg/files.tar /p/\n"
    assert built_files(layout, tmp_path, dockerfile, "/p") == {"pkg/inside": "in"}


DEEP = {"src/m.py": "m", "src/a/n.py": "n", "src/a/b/o.py": "o", "src/a/b/o.txt": "t", "p.py": "p"}


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        pytest.param(
            "COPY --parents ./src/**/*.py /app/",
            {"src/m.py": "m", "src/a/n.py": "n", "src/a/b/o.py": "o"},
            id="any-depth-including-none",
        ),
        pytest.param(
            "COPY --parents src/./**/*.py /app/",
            {"m.py": "m", "a/n.py": "n", "a/b/o.py": "o"},
            id="below-the-pivot",
        ),
        pytest.param(
            "COPY --parents **/b /app/",
            {"src/a/b/o.py": "o", "src/a/b/o.txt": "t"},
            id="a-matching-folder-whole",
        ),
        pytest.param("COPY --parents src/**/b/*.txt /app/", {"src/a/b/o.txt": "t"}, id="middle"),
    ],
)
def test_double_star_matches_any_number_of_folders(
    layout: Path, tmp_path: Path, instruction: str, expected: dict[str, str]
) -> None:
    write_context(tmp_path / "context", DEEP)
    assert built_files(layout, tmp_path, f"FROM busybox\n{instruction}\n", "/app") == expected


def test_double_star_leaves_out_what_dockerignore_ignores(layout: Path, tmp_path: Path) -> None:
    write_context(tmp_path / "context", {**DEEP, ".dockerignore": "src/a/b\n"})
    dockerfile = "FROM busybox\nCOPY --parents src/**/*.py /app/\n"
    files = built_files(layout, tmp_path, dockerfile, "/app")
    assert files == {"src/m.py": "m", "src/a/n.py": "n"}


def test_a_new_file_under_double_star_rebuilds_the_step(layout: Path, tmp_path: Path) -> None:
    dockerfile = "FROM busybox\nCOPY --parents src/**/*.py /app/\n"
    write_context(tmp_path / "context", DEEP)
    built_rootfs(layout, tmp_path, dockerfile)
    write_context(tmp_path / "context", {"src/a/b/c/q.py": "q"})
    files = built_files(layout, tmp_path, dockerfile, "/app")
    assert files["src/a/b/c/q.py"] == "q"


def test_double_star_matching_nothing_is_one_error_line(layout: Path, tmp_path: Path) -> None:
    context = write_context(
        tmp_path / "context",
        {**DEEP, "Dockerfile": "FROM busybox\nCOPY --parents src/**/*.go /a/\n"},
    )
    done = run_build(layout, context)
    assert done.returncode != 0
    assert (
        done.stderr.strip().splitlines()[-1].endswith("src/**/*.go: not found in the build context")
    )
