"""copy_image between layouts and a real porter-registry on loopback (push, pull, mount)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from copy_test_support import PLATFORMS, SIGNATURE_TYPE, make_index, make_signature
from porter_image.copy import CopyOptions, copy_image
from porter_image.copy_events import BlobKind, ProgressEvent, Status
from porter_image.distribution.client import RegistryOptions
from porter_image.distribution.errors import RegistryNotFoundError
from porter_image.endpoints.registry import open_repository
from porter_image.errors import ImageError, ImageRefError
from porter_image.image import load_image
from porter_image.layout import Layout
from porter_image.reference import parse_docker_reference
from porter_image.referrers import list_referrers
from porter_image.remote import inspect_remote
from porter_image.transport import parse_image_name
from porter_specs import media_types
from porter_specs.canonical import canonical_json
from porter_specs.digest import Digest, from_bytes
from porter_specs.errors import PorterError
from porter_specs.models import Descriptor, Platform
from registry_support import host_of, running_registry


@pytest.fixture(scope="module", autouse=True)
def no_stored_credentials(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests' own (empty) docker and podman credential files, not the machine's."""
    folder = tmp_path_factory.mktemp("credentials")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKER_CONFIG", str(folder / "docker"))
        patch.setenv("REGISTRY_AUTH_FILE", str(folder / "auth.json"))
        yield


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry for this module: its `127.0.0.1:PORT`."""
    with running_registry(tmp_path_factory.mktemp("registry") / "data") as process:
        yield host_of(process.url)


@pytest.fixture(scope="module")
def pushed(registry: str, busybox_image: tuple[Path, str]) -> str:
    """The busybox demo image pushed once as REGISTRY/library/busybox:1.0."""
    layout, tag = busybox_image
    copy_image(f"oci:{layout}:{tag}", f"docker://{registry}/library/busybox:1.0")
    return f"docker://{registry}/library/busybox:1.0"


def test_a_pulled_image_has_the_pushed_manifest_digest(
    pushed: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    result = copy_image(pushed, f"oci:{tmp_path / 'out'}:bb")
    pulled = Layout.open(tmp_path / "out")
    assert pulled.resolve("bb").digest == Layout.open(layout).resolve(tag).digest
    assert result.digest == pulled.resolve("bb").digest
    assert pulled.fsck() == []


def test_pushing_again_skips_the_blobs_the_registry_has(
    pushed: str, busybox_image: tuple[Path, str], registry: str
) -> None:
    layout, tag = busybox_image
    result = copy_image(f"{layout}:{tag}", f"docker://{registry}/library/busybox:again")
    assert (result.blobs_copied, result.blobs_skipped) == (0, 2)


def test_a_copy_to_another_repository_of_the_registry_mounts_the_blobs(
    pushed: str, registry: str
) -> None:
    result = copy_image(pushed, f"docker://{registry}/team/busybox:mounted")
    assert (result.blobs_mounted, result.blobs_copied) == (2, 0)
    assert inspect_remote(f"{registry}/team/busybox:mounted").descriptor.digest == result.digest


def test_pull_progress_reports_each_layer_from_start_to_complete(
    pushed: str, tmp_path: Path
) -> None:
    events: list[ProgressEvent] = []
    copy_image(pushed, f"oci:{tmp_path / 'out'}:bb", CopyOptions(progress=events.append))
    layer = [e for e in events if e.kind is BlobKind.LAYER]
    assert layer[0].status is Status.PULLING
    assert layer[-1].status is Status.DOWNLOADED
    downloading = [e for e in layer if e.status is Status.DOWNLOADING]
    assert downloading[-1].current == downloading[-1].total == layer[0].total > 0


def test_push_progress_uses_dockers_push_words(
    busybox_image: tuple[Path, str], registry: str
) -> None:
    layout, tag = busybox_image
    events: list[ProgressEvent] = []
    copy_image(
        f"{layout}:{tag}", f"docker://{registry}/fresh/bb:1", CopyOptions(progress=events.append)
    )
    statuses = {e.status for e in events}
    assert {Status.PREPARING, Status.PUSHING, Status.PUSHED} <= statuses


def test_pulling_an_unknown_tag_fails_and_creates_no_layout(
    pushed: str, registry: str, tmp_path: Path
) -> None:
    with pytest.raises(RegistryNotFoundError, match="not found"):
        copy_image(f"docker://{registry}/library/busybox:nope", f"oci:{tmp_path / 'out'}:bb")
    assert not (tmp_path / "out").exists()


def test_a_pull_into_a_layout_without_a_tag_lists_the_image_unnamed(
    pushed: str, tmp_path: Path
) -> None:
    result = copy_image(pushed, f"oci:{tmp_path / 'out'}")
    assert Layout.open(tmp_path / "out").read_index()["manifests"] == [result.descriptor.to_json()]


def test_remote_inspect_reads_manifest_and_config_without_layers(
    pushed: str, busybox_image: tuple[Path, str]
) -> None:
    layout, tag = busybox_image
    local = Layout.open(layout)
    manifest = local.read_json(local.resolve(tag))
    image = inspect_remote(pushed)
    assert image.descriptor.digest == local.resolve(tag).digest
    assert image.config == local.read_json(Descriptor.from_json(manifest["config"]))
    assert [str(d.digest) for d in image.layers] == [m["digest"] for m in manifest["layers"]]


# -- multi-platform ----------------------------------------------------------------------------


@pytest.fixture
def two_platforms(tmp_path: Path) -> tuple[Layout, Descriptor]:
    layout = Layout.create(tmp_path / "multi")
    return layout, make_index(layout, "multi")


def test_all_copies_the_whole_index_with_its_digest(
    two_platforms: tuple[Layout, Descriptor], registry: str, tmp_path: Path
) -> None:
    layout, index = two_platforms
    everything = CopyOptions(all_platforms=True)
    pushed = copy_image(f"{layout.path}:multi", f"docker://{registry}/multi/app:all", everything)
    assert pushed.digest == index.digest
    assert sorted(pushed.platforms) == sorted(str(p) for p in PLATFORMS)
    pulled = copy_image(
        f"docker://{registry}/multi/app:all",
        f"{tmp_path / 'back'}:multi",
        CopyOptions(all_platforms=True),
    )
    assert pulled.digest == index.digest
    assert Layout.open(tmp_path / "back").fsck() == []


def test_platform_copies_only_that_platforms_manifest(
    two_platforms: tuple[Layout, Descriptor], registry: str, tmp_path: Path
) -> None:
    layout, _ = two_platforms
    arm = Platform.parse("linux/arm64")
    copy_image(
        f"{layout.path}:multi", f"docker://{registry}/multi/app:one", CopyOptions(platform=arm)
    )
    image = inspect_remote(f"{registry}/multi/app:one")
    assert image.index is None
    assert (image.config["os"], image.config["architecture"]) == ("linux", "arm64")


def test_a_platform_the_index_lacks_is_refused_naming_what_it_offers(
    two_platforms: tuple[Layout, Descriptor], tmp_path: Path
) -> None:
    layout, _ = two_platforms
    with pytest.raises(ImageError, match="offers: linux/amd64, linux/arm64/v8"):
        copy_image(
            f"{layout.path}:multi",
            f"{tmp_path / 'out'}:x",
            CopyOptions(platform=Platform.parse("linux/s390x")),
        )
    assert not (tmp_path / "out").exists()


def test_a_layout_copies_to_another_layout(busybox_image: tuple[Path, str], tmp_path: Path) -> None:
    layout, tag = busybox_image
    shutil.copytree(layout, tmp_path / "src")
    result = copy_image(f"oci:{tmp_path / 'src'}:{tag}", f"oci:{tmp_path / 'dst'}:copy")
    assert Layout.open(tmp_path / "dst").resolve("copy").digest == result.digest


@pytest.fixture(scope="module")
def signature(
    pushed: str,
    registry: str,
    busybox_image: tuple[Path, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Descriptor:
    """A signature of the pushed busybox, pushed beside it (by digest)."""
    layout, tag = busybox_image
    artifacts = Layout.create(tmp_path_factory.mktemp("artifacts") / "layout")
    signature = make_signature(artifacts, "sig", Layout.open(layout).resolve(tag))
    copy_image(
        f"oci:{artifacts.path}:sig", f"docker://{registry}/library/busybox@{signature.digest}"
    )
    return signature


def _own_copy(busybox_image: tuple[Path, str], folder: Path) -> tuple[Layout, str]:
    """A copy of the busybox layout this test may change: (layout, tag)."""
    layout, tag = busybox_image
    shutil.copytree(layout, folder)
    return Layout.open(folder), tag


def _referrers_at(registry: str, repository: str, subject: Descriptor) -> list[Digest]:
    found = open_repository(parse_docker_reference(f"{registry}/{repository}"), RegistryOptions())
    try:
        return [d.digest for d in found.referrers(subject.digest)]
    finally:
        found.client.close()


def test_include_referrers_copies_the_signature_of_the_image(
    pushed: str, registry: str, signature: Descriptor, busybox_image: tuple[Path, str]
) -> None:
    layout, tag = busybox_image
    result = copy_image(
        pushed, f"docker://{registry}/mirror/busybox:1", CopyOptions(include_referrers=True)
    )
    assert result.referrers_copied == 1
    subject = Layout.open(layout).resolve(tag)
    assert _referrers_at(registry, "mirror/busybox", subject) == [signature.digest]


def test_include_referrers_into_a_layout_lists_the_signature_untagged(
    pushed: str, signature: Descriptor, tmp_path: Path
) -> None:
    result = copy_image(pushed, f"oci:{tmp_path / 'out'}:bb", CopyOptions(include_referrers=True))
    layout = Layout.open(tmp_path / "out")
    assert result.referrers_copied == 1
    assert [(e.tag, e.descriptor.digest) for e in layout.entries()] == [
        (None, signature.digest),
        ("bb", result.digest),
    ]
    found = list_referrers(
        parse_image_name(f"oci:{layout.path}@{result.digest}"), RegistryOptions()
    )
    assert [(d.digest, d.artifact_type) for d in found] == [(signature.digest, SIGNATURE_TYPE)]
    assert layout.fsck() == []


def test_include_referrers_into_an_oci_archive_keeps_the_signature(
    pushed: str, signature: Descriptor, tmp_path: Path
) -> None:
    archive = tmp_path / "bb.tar"
    copy_image(pushed, f"oci-archive:{archive}:bb", CopyOptions(include_referrers=True))
    found = list_referrers(parse_image_name(f"oci-archive:{archive}:bb"), RegistryOptions())
    assert [d.digest for d in found] == [signature.digest]


def test_include_referrers_from_a_layout_pushes_its_signature(
    registry: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    source, tag = _own_copy(busybox_image, tmp_path / "src")
    signature = make_signature(source, "sig", source.resolve(tag))
    result = copy_image(
        f"oci:{source.path}:{tag}",
        f"docker://{registry}/from-layout/busybox:1",
        CopyOptions(include_referrers=True),
    )
    assert result.referrers_copied == 1
    assert _referrers_at(registry, "from-layout/busybox", source.resolve(tag)) == [signature.digest]


def test_include_referrers_refuses_a_docker_archive(pushed: str, tmp_path: Path) -> None:
    with pytest.raises(ImageRefError, match="a docker-archive cannot hold referrers"):
        copy_image(
            pushed, f"docker-archive:{tmp_path / 'out.tar'}", CopyOptions(include_referrers=True)
        )
    assert not (tmp_path / "out.tar").exists()


# -- formats ----------------------------------------------------------------------------------


def test_v2s2_writes_docker_media_types_and_reports_the_new_digest(
    registry: str, busybox_image: tuple[Path, str]
) -> None:
    layout, tag = busybox_image
    result = copy_image(
        f"oci:{layout}:{tag}", f"docker://{registry}/formats/bb:v2s2", CopyOptions(format="v2s2")
    )
    image = inspect_remote(f"{registry}/formats/bb:v2s2")
    assert image.descriptor.media_type == media_types.DOCKER_MANIFEST
    assert image.manifest["config"]["mediaType"] == media_types.DOCKER_CONFIG
    assert {d.media_type for d in image.layers} <= {media_types.DOCKER_LAYER_TAR_GZIP}
    assert result.digest == image.descriptor.digest != Layout.open(layout).resolve(tag).digest


def test_oci_to_v2s2_and_back_is_the_original_without_its_annotations(
    registry: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    layout, tag = busybox_image
    to_v2s2, to_oci = CopyOptions(format="v2s2"), CopyOptions(format="oci")
    copy_image(f"oci:{layout}:{tag}", f"docker://{registry}/formats/bb:rt", to_v2s2)
    back = copy_image(f"docker://{registry}/formats/bb:rt", f"oci:{tmp_path / 'b'}:v1", to_oci)
    original = Layout.open(layout)
    document = original.read_json(original.resolve(tag))
    del document["annotations"]  # schema 2 has none
    assert back.digest == from_bytes(canonical_json(document))


@pytest.mark.parametrize(
    ("options", "how"),
    [
        (CopyOptions(format="v2s2", preserve_digests=True), "converting to v2s2"),
        (CopyOptions(dest_compress="zstd", preserve_digests=True), "recompressing layers"),
    ],
)
def test_preserve_digests_refuses_a_change_of_digest(
    registry: str, busybox_image: tuple[Path, str], options: CopyOptions, how: str
) -> None:
    layout, tag = busybox_image
    with pytest.raises(ImageError, match=f"{how} would change its digest"):
        copy_image(f"oci:{layout}:{tag}", f"docker://{registry}/formats/bb:kept", options)
    assert not inspect_remote_exists(registry, "formats/bb:kept")


def inspect_remote_exists(registry: str, name: str) -> bool:
    try:
        inspect_remote(f"{registry}/{name}")
    except RegistryNotFoundError:
        return False
    return True


def test_a_whole_index_becomes_a_manifest_list(
    two_platforms: tuple[Layout, Descriptor], registry: str
) -> None:
    layout, index = two_platforms
    options = CopyOptions(all_platforms=True, format="v2s2")
    result = copy_image(f"{layout.path}:multi", f"docker://{registry}/formats/multi:1", options)
    assert result.media_type == media_types.DOCKER_MANIFEST_LIST and result.digest != index.digest
    arm = inspect_remote(f"{registry}/formats/multi:1", platform=Platform.parse("linux/arm64"))
    assert arm.index is not None and arm.descriptor.media_type == media_types.DOCKER_MANIFEST


def test_an_artifact_cannot_become_v2s2(
    busybox_image: tuple[Path, str], registry: str, tmp_path: Path
) -> None:
    layout, tag = busybox_image
    artifacts = Layout.create(tmp_path / "artifacts")
    make_signature(artifacts, "sig", Layout.open(layout).resolve(tag))
    with pytest.raises(ImageError, match="cannot be Docker schema 2"):
        copy_image(
            f"{artifacts.path}:sig",
            f"docker://{registry}/formats/sig:1",
            CopyOptions(format="v2s2"),
        )


# -- recompression ----------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["zstd", "none"])
def test_dest_compress_rewrites_layers_and_keeps_the_diff_ids(
    registry: str, busybox_image: tuple[Path, str], tmp_path: Path, compression: str
) -> None:
    layout, tag = busybox_image
    options = CopyOptions(dest_compress=compression)
    pushed = copy_image(f"oci:{layout}:{tag}", f"docker://{registry}/zz/bb:{compression}", options)
    image = inspect_remote(f"{registry}/zz/bb:{compression}")
    assert image.descriptor.digest == pushed.digest
    expected = media_types.LAYER_TAR_ZSTD if compression == "zstd" else media_types.LAYER_TAR
    assert [d.media_type for d in image.layers] == [expected]
    copy_image(f"docker://{registry}/zz/bb:{compression}", f"oci:{tmp_path / 'b'}:v1")
    back = load_image(Layout.open(tmp_path / "b"), "v1")
    assert back.config.diff_ids == load_image(Layout.open(layout), tag).config.diff_ids
    assert Layout.open(tmp_path / "b").fsck() == []


def test_zstd_layers_cannot_be_docker_schema_2(
    registry: str, busybox_image: tuple[Path, str]
) -> None:
    layout, tag = busybox_image
    options = CopyOptions(dest_compress="zstd", format="v2s2")
    with pytest.raises(ImageError, match="no zstd layers"):
        copy_image(f"oci:{layout}:{tag}", f"docker://{registry}/zz/bb:docker", options)


def test_a_corrupt_source_blob_is_not_pushed_and_no_tag_appears(
    registry: str, busybox_image: tuple[Path, str], tmp_path: Path
) -> None:
    corrupt, tag = _own_copy(busybox_image, tmp_path / "corrupt")
    layer = load_image(corrupt, tag).manifest.layers[0]
    path = corrupt.blob_path(layer.digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(PorterError, match="digest mismatch"):
        copy_image(f"oci:{corrupt.path}:{tag}", f"docker://{registry}/corrupt/bb:1")
    assert not inspect_remote_exists(registry, "corrupt/bb:1")
