"""A registry that lies: every lie ends in one clear error and nothing new at the destination."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lying_registry import REPOSITORY, Lie, LyingRegistry, serving
from porter_image.copy import CopyOptions, copy_image
from porter_image.distribution import client
from porter_image.distribution.auth import Credentials
from porter_image.distribution.errors import (
    ManifestRefusedError,
    RegistryError,
    RegistryUnauthorizedError,
)
from porter_image.layout import Layout
from porter_specs.errors import PorterError

FAST = CopyOptions(retries=2, retry_delay=0.01)


pytestmark = pytest.mark.usefixtures("no_stored_credentials")


@pytest.fixture
def registry(request: pytest.FixtureRequest) -> Iterator[LyingRegistry]:
    with serving(LyingRegistry(lie=getattr(request, "param", Lie.NONE))) as served:
        yield served


def pull(registry: LyingRegistry, destination: Path) -> None:
    copy_image(f"docker://{registry.host}/{REPOSITORY}:v1", f"oci:{destination}:v1", FAST)


def test_the_honest_registry_is_pulled(registry: LyingRegistry, tmp_path: Path) -> None:
    pull(registry, tmp_path / "out")
    assert (tmp_path / "out" / "index.json").is_file()


@pytest.mark.parametrize(
    ("registry", "error", "reason"),
    [
        (Lie.BLOB_BYTES, PorterError, "digest mismatch"),
        (Lie.CONTENT_LENGTH, RegistryError, "Content-Length"),
        (Lie.CUT_STREAM, RegistryError, "cut short"),
        (Lie.HEAD_YES_GET_404, RegistryError, "not found"),
        (Lie.REDIRECT_LOOP, RegistryError, "redirect loop"),
        (Lie.HUGE_MANIFEST, ManifestRefusedError, "larger than 4194304 bytes"),
        (Lie.NOT_JSON, ManifestRefusedError, "not JSON"),
        (Lie.UNKNOWN_TYPE, ManifestRefusedError, "unknown manifest media type"),
        (Lie.SCHEMA1, ManifestRefusedError, "schema 1"),
        (Lie.OTHER_DIGEST, ManifestRefusedError, "manifest digest mismatch"),
        (Lie.GARBAGE_TOKEN, RegistryError, "not JSON"),
    ],
    indirect=["registry"],
    ids=lambda value: value.name if isinstance(value, Lie) else None,
)
def test_a_lie_is_one_clear_error_and_leaves_no_layout(
    registry: LyingRegistry, tmp_path: Path, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason) as caught:
        pull(registry, tmp_path / "out")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("registry", [Lie.BLOB_BYTES], indirect=True)
def test_a_lie_adds_no_tag_and_no_partial_blob_to_an_existing_layout(
    registry: LyingRegistry, image_layout: Layout
) -> None:
    index = (image_layout.path / "index.json").read_bytes()
    with pytest.raises(PorterError):
        copy_image(
            f"docker://{registry.host}/{REPOSITORY}:v1", f"oci:{image_layout.path}:new", FAST
        )
    assert (image_layout.path / "index.json").read_bytes() == index
    assert not list(image_layout.path.glob(".porter-tmp-*"))
    assert image_layout.fsck() == []


@pytest.mark.parametrize("registry", [Lie.FAIL_TWICE, Lie.RATE_LIMITED], indirect=True)
def test_5xx_and_429_are_retried_until_the_answer_is_good(
    registry: LyingRegistry, tmp_path: Path
) -> None:
    pull(registry, tmp_path / "out")
    assert (tmp_path / "out" / "index.json").is_file()


@pytest.mark.parametrize("registry", [Lie.RATE_LIMITED], indirect=True)
def test_a_429_waits_the_seconds_its_retry_after_names(
    registry: LyingRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(client.time, "sleep", waits.append)
    pull(registry, tmp_path / "out")
    assert waits == [2.0]


@pytest.mark.parametrize("registry", [Lie.FAIL_TWICE], indirect=True)
def test_without_retries_a_503_is_the_error(registry: LyingRegistry, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="HTTP 503"):
        copy_image(
            f"docker://{registry.host}/{REPOSITORY}:v1",
            f"oci:{tmp_path / 'out'}:v1",
            CopyOptions(retries=0),
        )


@pytest.mark.parametrize("registry", [Lie.CUT_STREAM], indirect=True)
def test_a_cut_stream_is_fetched_again_a_bounded_number_of_times(
    registry: LyingRegistry, tmp_path: Path
) -> None:
    with pytest.raises(RegistryError):
        pull(registry, tmp_path / "out")
    gets = [r for r in registry.requests if r[0] == "GET" and "/blobs/" in r[1]]
    layer_gets = len(gets) - 1  # one is the config
    assert layer_gets == FAST.retries + 1


@pytest.mark.parametrize("registry", [Lie.REFUSE_CREDENTIALS], indirect=True)
def test_wrong_credentials_are_unauthorized_without_a_retry_storm(
    registry: LyingRegistry, tmp_path: Path
) -> None:
    options = CopyOptions(src_credentials=Credentials("alice", "wrong"), retries=3)
    with pytest.raises(RegistryUnauthorizedError, match="unauthorized"):
        copy_image(f"docker://{registry.host}/{REPOSITORY}:v1", f"oci:{tmp_path / 'o'}:v1", options)
    assert len(registry.requests) <= 3  # the ping, the request, and once more with credentials
