"""`porter-image unpack` writes bundles that runc runs, with the process section umoci writes.

The busybox demo image is unpacked and run with Debian's runc (each run with its own --root
and a unique container id, deleted in `finally`); the generated config.json is compared with
the one `umoci unpack` writes for the same image, for several image users and settings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_host_features import skip_unless
from image_test_support import PORTER_IMAGE

pytestmark = pytest.mark.integration

NOBODY = 65534
EXTRA_GROUPS = "wheel:x:10:nobody,root\naudio:x:29:nobody\n"

needs_runc = pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
needs_umoci = pytest.mark.skipif(shutil.which("umoci") is None, reason="umoci is not installed")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to nobody")


def porter(*args: object) -> str:
    result = subprocess.run(
        [str(PORTER_IMAGE), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def set_process(bundle: Path, args: list[str]) -> None:
    """Run `args` without a terminal (the tests have none), as `runc spec` users edit it."""
    path = bundle / "config.json"
    config = json.loads(path.read_text())
    config["process"].update(args=args, terminal=False)
    path.write_text(json.dumps(config))


def runc_run(bundle: Path, state: Path, as_user: list[str] | None = None) -> str:
    """`runc run` the bundle under a unique id and --root; returns its output."""
    prefix = as_user or []
    container = f"porter-image-test-{uuid.uuid4().hex[:12]}"
    runc = [*prefix, "runc", "--root", str(state)]
    try:
        result = subprocess.run(
            [*runc, "run", "--bundle", str(bundle), container],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout
    finally:
        subprocess.run([*runc, "delete", "--force", container], capture_output=True, timeout=60)


@needs_runc
def test_runc_runs_the_unpacked_busybox_bundle(
    busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    porter("unpack", f"{layout}:{tag}", tmp_path / "bundle")
    set_process(tmp_path / "bundle", ["sh", "-c", "echo hello; id -u"])
    assert runc_run(tmp_path / "bundle", tmp_path / "runc") == "hello\n0\n"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A fresh directory that nobody can use (pytest's temp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="porter-image-rootless-"))
    try:
        os.chown(path, NOBODY, NOBODY)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@needs_runc
@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv is not installed")
def test_an_unprivileged_user_runs_its_rootless_bundle(
    busybox_image: tuple[Path, str], shared_dir: Path, installed_porter, missing_user_namespace
) -> None:
    """nobody unpacks with Porter installed out of its wheel where every user can reach it (the
    dev venv may lie in a checkout closed to nobody), and runs the bundle with runc."""
    skip_unless(missing_user_namespace(NOBODY, NOBODY))
    shutil.copytree(busybox_image[0], shared_dir / "layout")
    subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", shared_dir / "layout"], check=True)
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    image = f"{shared_dir / 'layout'}:{busybox_image[1]}"
    unpack = [*as_nobody, str(installed_porter.command("porter-image")), "unpack", "--rootless"]
    result = subprocess.run(
        [*unpack, image, shared_dir / "bundle"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    bundle = shared_dir / "bundle"
    set_process(bundle, ["sh", "-c", "id -u; cat /proc/self/uid_map"])
    output = runc_run(bundle, shared_dir / "runc", as_user=as_nobody)
    assert output.split() == ["0", "0", str(NOBODY), "1"]


@pytest.fixture(scope="module")
def variants(busybox_image: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the busybox layout with group memberships added (tag `groups`)."""
    layout = tmp_path_factory.mktemp("variants") / "layout"
    shutil.copytree(busybox_image[0], layout)
    work = layout.parent / "work"
    porter("unpack", f"{layout}:{busybox_image[1]}", work)
    with open(work / "rootfs" / "etc" / "group", "a") as group:
        group.write(EXTRA_GROUPS)
    porter("repack", f"{layout}:groups", work)
    return layout


CASES = {
    "defaults": [],
    "user-name": ["--user", "nobody"],
    "user-name-and-group": ["--user", "nobody:root"],
    "numeric-user-and-group": ["--user", "65534:65534"],
    "numeric-user-not-in-passwd": ["--user", "4242"],
    "workdir-entrypoint-cmd": ["--workdir", "/tmp", "--entrypoint", "/bin/env", "--cmd", "-0"],
    "env": ["--env", "PATH=/bin", "--env", "TERM=dumb", "--env", "LANG=C.UTF-8"],
}


def unpack_both(layout: Path, tag: str, out: Path, rootless: bool) -> tuple[dict, dict]:
    """The process sections of umoci's and porter-image's config.json for one image."""
    flag = ["--rootless"] if rootless else []
    umoci = ["umoci", "unpack", *flag, "--image", f"{layout}:{tag}", str(out / "umoci")]
    result = subprocess.run(umoci, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    porter("unpack", *flag, f"{layout}:{tag}", out / "porter")
    sections = []
    for name in ("umoci", "porter"):
        process = json.loads((out / name / "config.json").read_text())["process"]
        sections.append({key: process.get(key) for key in ("args", "env", "cwd", "user")})
    return sections[0], sections[1]


@needs_umoci
@pytest.mark.parametrize("case", sorted(CASES))
def test_process_section_matches_umoci(variants: Path, tmp_path: Path, case: str) -> None:
    tag = f"case-{case}"
    porter("config", "--tag", tag, *CASES[case], f"{variants}:groups")
    umoci_process, porter_process = unpack_both(variants, tag, tmp_path, rootless=False)
    assert porter_process == umoci_process


@needs_umoci
def test_rootless_process_section_matches_umoci(variants: Path, tmp_path: Path) -> None:
    porter("config", "--tag", "rootless", "--user", "nobody", f"{variants}:groups")
    umoci_process, porter_process = unpack_both(variants, "rootless", tmp_path, rootless=True)
    assert porter_process == umoci_process


def test_supplementary_groups_come_from_group_membership(variants: Path, tmp_path: Path) -> None:
    porter("config", "--tag", "members", "--user", "nobody", f"{variants}:groups")
    porter("unpack", f"{variants}:members", tmp_path / "bundle")
    user = json.loads((tmp_path / "bundle" / "config.json").read_text())["process"]["user"]
    assert user == {"uid": NOBODY, "gid": NOBODY, "additionalGids": [10, 29]}
