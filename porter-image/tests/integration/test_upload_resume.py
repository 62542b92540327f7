"""A large blob's upload survives a dropped connection: the client asks the registry how much it
holds and sends the rest (Content-Range from there), rather than failing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cutting_proxy import cutting_proxy
from image_test_support import make_image
from porter_image.copy import CopyOptions, copy_image
from porter_image.distribution.uploads import MONOLITHIC_LIMIT, held_bytes
from porter_image.layout import Layout
from porter_specs import media_types
from registry_support import host_of, running_registry

pytestmark = pytest.mark.usefixtures("no_stored_credentials")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    with running_registry(tmp_path / "data") as process:
        yield host_of(process.url)


@pytest.fixture
def large_image(tmp_path: Path) -> Layout:
    """An image whose one layer is larger than a monolithic upload (random, incompressible)."""
    layout = Layout.create(tmp_path / "large")
    blob = os.urandom(MONOLITHIC_LIMIT + (4 << 20))
    make_image(layout, "v1", blob=blob, media_type=media_types.LAYER_TAR_GZIP)
    return layout


def test_a_dropped_patch_is_resumed_and_the_push_completes(
    registry: str, large_image: Layout, tmp_path: Path
) -> None:
    host, port = registry.rsplit(":", 1)
    with cutting_proxy((host, int(port)), cut_after=8 << 20) as proxy:
        pushed = copy_image(
            f"oci:{large_image.path}:v1",
            f"docker://127.0.0.1:{proxy.port}/big/app:1",
            CopyOptions(retry_delay=0.01),
        )
    assert proxy.cuts == 1 and proxy.patches >= 2
    pulled = copy_image(f"docker://{registry}/big/app:1", f"oci:{tmp_path / 'back'}:v1")
    assert pulled.digest == pushed.digest
    assert Layout.open(tmp_path / "back").fsck() == []


@pytest.mark.parametrize(("header", "held"), [("0-0", 0), ("0-99", 100), ("", 0), ("bad", 0)])
def test_the_upload_status_range_says_how_many_bytes_are_held(header: str, held: int) -> None:
    assert held_bytes(header) == held
