"""A blob download cut in the middle is resumed: the client asks a real porter-registry (which
serves ranges) for the rest with `Range: bytes=N-`, instead of failing or fetching the whole
blob again. The cut is made by a proxy on loopback that really drops the connection part-way
through the first blob's body."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cutting_proxy import BlobCuttingProxy, cutting_proxy
from image_test_support import make_image
from porter_image.copy import CopyOptions, copy_image
from porter_image.layout import Layout
from porter_specs import media_types
from registry_support import host_of, running_registry

pytestmark = pytest.mark.usefixtures("no_stored_credentials")

LAYER_SIZE = 12 << 20
CUT_AFTER = 5 << 20


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    with running_registry(tmp_path / "data") as process:
        yield host_of(process.url)


@pytest.fixture
def pushed(registry: str, tmp_path: Path) -> str:
    """The manifest digest of a one-layer image (random, incompressible) in the registry."""
    layout = Layout.create(tmp_path / "large")
    make_image(layout, "v1", blob=os.urandom(LAYER_SIZE), media_type=media_types.LAYER_TAR_GZIP)
    return str(copy_image(f"oci:{layout.path}:v1", f"docker://{registry}/big/app:1").digest)


def test_a_cut_blob_download_is_resumed_from_where_it_stopped(
    registry: str, pushed: str, tmp_path: Path
) -> None:
    host, port = registry.rsplit(":", 1)
    with cutting_proxy((host, int(port)), CUT_AFTER, BlobCuttingProxy) as proxy:
        pulled = copy_image(
            f"docker://127.0.0.1:{proxy.port}/big/app:1",
            f"oci:{tmp_path / 'back'}:v1",
            CopyOptions(retry_delay=0.01),
        )
    assert isinstance(proxy, BlobCuttingProxy) and proxy.cuts == 1
    assert proxy.range_gets == 1  # the rest of the cut blob, asked for once
    assert proxy.blob_gets == 3  # the layer, its rest, the config: nothing fetched twice
    assert str(pulled.digest) == pushed
    assert Layout.open(tmp_path / "back").fsck() == []  # every blob whole and verified
