"""Loading an image through a multi-platform index, by host or by --platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from image_test_support import make_image, snapshot
from porter_image.cli.main import cli
from porter_image.errors import ImageError
from porter_image.image import load_image
from porter_image.layout import Layout
from porter_specs import media_types
from porter_specs.models import Descriptor, Platform


def _foreign(layout: Layout) -> Descriptor:
    """An image whose config says s390x, built by rewriting a host image's config."""
    host = make_image(layout, "tmp", {"foreign": b"s390x"})
    manifest = layout.read_json(host)
    config = layout.read_json(Descriptor.from_json(manifest["config"]))
    config["architecture"] = "s390x"
    manifest["config"] = layout.put_json(media_types.IMAGE_CONFIG, config).to_json()
    layout.remove_tag("tmp")
    return layout.put_json(media_types.IMAGE_MANIFEST, manifest)


@pytest.fixture
def multi(layout: Layout) -> Layout:
    """Tag `multi`: an index of a host image and an s390x image."""
    host = make_image(layout, "host-only", {"native": b"host"})
    foreign = _foreign(layout)
    index = {
        "schemaVersion": 2,
        "mediaType": media_types.IMAGE_INDEX,
        "manifests": [
            Descriptor(
                foreign.media_type,
                foreign.digest,
                foreign.size,
                platform=Platform("linux", "s390x"),
            ).to_json(),
            Descriptor(host.media_type, host.digest, host.size, platform=Platform.host()).to_json(),
        ],
    }
    layout.set_tag("multi", layout.put_json(media_types.IMAGE_INDEX, index))
    return layout


def test_index_is_followed_to_the_host_platform(multi: Layout) -> None:
    assert load_image(multi, "multi").descriptor.digest == multi.resolve("host-only").digest


def test_platform_option_picks_another_entry(multi: Layout) -> None:
    image = load_image(multi, "multi", Platform.parse("linux/s390x"))
    assert image.config.architecture == "s390x"


def test_a_platform_the_index_lacks_names_what_it_offers(multi: Layout) -> None:
    with pytest.raises(ImageError, match=r"no manifest for platform linux/riscv64 .*s390x"):
        load_image(multi, "multi", Platform.parse("linux/riscv64"))


def test_unpack_with_platform_unpacks_that_image(multi: Layout, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["unpack", "--platform", "linux/s390x", f"{multi.path}:multi", str(tmp_path / "b")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / "rootfs" / "foreign").read_text() == "s390x"


def test_config_through_an_index_tags_the_chosen_manifest(multi: Layout) -> None:
    before = snapshot(multi.path)
    result = CliRunner().invoke(cli, ["config", f"{multi.path}:multi", "--user", "1", "--tag", "x"])
    assert result.exit_code == 0 and snapshot(multi.path) != before
    assert load_image(multi, "x").config.config.user == "1"
