"""What porter does when stdout cannot take its output (a full disk, a stdout closed before
porter started), for a listing run without click and for a command under click alike."""

from __future__ import annotations

import os
import subprocess

import pytest
from porter_fake_engine import PORTER, FakeEngine

LONG = "x" * 250  # a megabyte of output: more than any buffer on the way holds
NAMES = [{"Id": f"{i:064x}", "Names": [f"/c{i}{LONG}"], "Created": 0} for i in range(4000)]
LISTINGS = [["ps", "--format", "{{.Names}}"], ["volume", "ls", "--format", "{{.Name}}"]]


@pytest.fixture
def listing(engine: FakeEngine) -> FakeEngine:
    """The fake engine with thousands of containers and volumes to list."""
    engine.json("GET", "/containers/json", NAMES)
    volumes = [{"Name": f"v{index}{LONG}", "Driver": "local"} for index in range(4000)]
    engine.json("GET", "/volumes", {"Volumes": volumes, "Warnings": None})
    return engine


def porter_argv(engine: FakeEngine, args: list[str]) -> list[str]:
    return [str(PORTER), "-H", engine.host, *args]  # type: ignore[attr-defined]


@pytest.mark.parametrize("args", LISTINGS, ids=["ps", "volume ls"])
def test_a_full_disk_under_stdout_is_one_error_line_and_exit_1(
    listing: FakeEngine, porter_env: dict[str, str], args: list[str]
) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("this host has no /dev/full to stand for a full disk")
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            porter_argv(listing, args), stdout=full, stderr=subprocess.PIPE, text=True,
            env=porter_env, timeout=60,
        )  # fmt: skip
    assert (result.returncode, result.stderr) == (1, "porter: No space left on device\n")


@pytest.mark.parametrize("args", LISTINGS, ids=["ps", "volume ls"])
def test_a_closed_stdout_loses_the_listing_without_an_error(
    listing: FakeEngine, porter_env: dict[str, str], args: list[str]
) -> None:
    result = subprocess.run(
        porter_argv(listing, args), stderr=subprocess.PIPE, text=True, env=porter_env,
        preexec_fn=lambda: os.close(1), timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (0, "")
