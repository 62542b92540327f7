"""The one copy function: an image from any source name to any destination name.

    result = copy_image("docker://127.0.0.1:5000/library/busybox:latest",
                        "oci:/srv/layout:busybox", CopyOptions(progress=on_event))

What moves: the manifest (or, with `all_platforms`, the whole index), its config and layers.
Blobs the destination has are skipped; a blob going to another repository of the same
registry is mounted; layers move in parallel (3 at a time by default, like docker). Every
blob is verified against its digest as it is stored; the destination's name (its tag) is
written last, after every manifest and blob under it, so a failed copy shows nothing new.
"""

from __future__ import annotations

import functools
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from porter_specs import media_types
from porter_specs.digest import Digest
from porter_specs.models import Descriptor, Manifest, Platform

from porter_image.bounded_threads import run_bounded
from porter_image.copy_events import BlobKind, ProgressCallback, ProgressEvent, Status, short_id
from porter_image.distribution.auth import Credentials
from porter_image.distribution.client import RegistryOptions
from porter_image.distribution.errors import ManifestRefusedError, RegistryUnavailableError
from porter_image.distribution.manifests import RawManifest
from porter_image.distribution.tls import DOCKER_CERTS_D
from porter_image.endpoints.base import BlobOpener, ImageDestination, ImageSource
from porter_image.endpoints.open import open_destination, open_source
from porter_image.errors import ImageError, ImageRefError
from porter_image.manifest_format import convert
from porter_image.platforms import choose_platform
from porter_image.recompress import compression_of, recompress, target_media_type, with_layers
from porter_image.transport import DockerArchiveName, ImageName, RegistryName, parse_image_name

# An index may hold indexes; deeper than this is refused (and so is an index holding itself).
MAX_INDEX_DEPTH = 4
# Referrers of referrers are followed this deep (a signature of an SBOM of an image is 2).
MAX_REFERRER_DEPTH = 4
DEFAULT_PARALLEL = 3


@dataclass(frozen=True)
class CopyOptions:
    """Everything a copy can be told; the defaults are docker's and skopeo's."""

    platform: Platform | None = None  # None: this machine's
    all_platforms: bool = False
    src_credentials: Credentials | None = None
    dest_credentials: Credentials | None = None
    src_tls_verify: bool = True
    dest_tls_verify: bool = True
    insecure_registries: tuple[str, ...] = ()
    certs_dir: Path = DOCKER_CERTS_D
    retries: int = 3
    retry_delay: float = 1.0
    parallel: int = DEFAULT_PARALLEL
    progress: ProgressCallback | None = None
    # also copy the artifacts (signatures, SBOMs) whose subject is a copied manifest, and
    # theirs in turn, as `oras cp -r` does (a layout lists them, untagged, in its index.json)
    include_referrers: bool = False
    # "oci" or "v2s2" to convert manifests (digests change), None to keep them as they are
    format: str | None = None
    # refuse any change that would give a manifest a new digest
    preserve_digests: bool = False
    # recompress layers ("gzip", "zstd", "none"); None keeps them as they are
    dest_compress: str | None = None

    def registry_options(self, source: bool) -> RegistryOptions:
        return RegistryOptions(
            credentials=self.src_credentials if source else self.dest_credentials,
            tls_verify=self.src_tls_verify if source else self.dest_tls_verify,
            insecure_registries=self.insecure_registries,
            certs_dir=self.certs_dir,
            retries=self.retries,
            retry_delay=self.retry_delay,
            connections=max(self.parallel, 1) + 2,
        )


@dataclass(frozen=True)
class CopyResult:
    """What was written: the manifest (or index) digest at the destination, and the counts."""

    digest: Digest
    media_type: str
    size: int
    platforms: tuple[str, ...] = ()
    blobs_copied: int = 0
    blobs_skipped: int = 0
    blobs_mounted: int = 0
    bytes_copied: int = 0
    referrers_copied: int = 0

    @property
    def descriptor(self) -> Descriptor:
        return Descriptor(self.media_type, self.digest, self.size)


def copy_image(
    src: ImageName | str, dst: ImageName | str, options: CopyOptions | None = None
) -> CopyResult:
    """Copy one image (or a whole index) from `src` to `dst`; see the module docstring."""
    options = options or CopyOptions()
    src_name = parse_image_name(src) if isinstance(src, str) else src
    dst_name = parse_image_name(dst) if isinstance(dst, str) else dst
    source = open_source(src_name, options.registry_options(source=True))
    try:
        destination = open_destination(dst_name, options.registry_options(source=False))
        failed = True
        try:
            if options.include_referrers and options.format is not None:
                raise ImageRefError(
                    str(dst_name), "--include-referrers keeps manifests as they are: no --format"
                )
            if options.include_referrers and isinstance(dst_name, DockerArchiveName):
                raise ImageRefError(
                    str(dst_name), "--include-referrers: a docker-archive cannot hold referrers"
                )
            copier = _Copier(source, destination, options, pushing=_is_push(dst_name))
            top = copier.copy_top(source.top_manifest())
            if options.include_referrers:
                copier.copy_referrers(0)
            destination.commit(top)
            failed = False
        finally:
            destination.close(failed)
    finally:
        source.close()
    return copier.result(top)


def _is_push(name: ImageName) -> bool:
    return isinstance(name, RegistryName)


@dataclass
class _Counts:
    copied: int = 0
    skipped: int = 0
    mounted: int = 0
    bytes: int = 0
    platforms: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Copier:
    def __init__(
        self,
        source: ImageSource,
        destination: ImageDestination,
        options: CopyOptions,
        pushing: bool,
    ) -> None:
        self.source = source
        self.destination = destination
        self.options = options
        self.pushing = pushing
        self.counts = _Counts()
        self.copied: list[Digest] = []  # manifests stored, whose referrers may follow
        self.referrers = 0

    def result(self, top: RawManifest) -> CopyResult:
        c = self.counts
        return CopyResult(
            top.digest,
            top.media_type,
            len(top.data),
            tuple(c.platforms),
            c.copied,
            c.skipped,
            c.mounted,
            c.bytes,
            self.referrers,
        )

    # -- manifests -------------------------------------------------------------------------

    def copy_top(self, top: RawManifest) -> RawManifest:
        """Copy what `top` names; returns the manifest written (converted, perhaps)."""
        if not top.is_index:
            return self.copy_manifest(top)
        if self.options.all_platforms:
            return self.copy_index(top, 0)
        wanted = self.options.platform or Platform.host()
        child = choose_platform(index_children(top), wanted, f"index {top.digest}")
        manifest = self.source.manifest(child.digest)
        if manifest.is_index:
            raise ManifestRefusedError(str(child.digest), "a platform's manifest is an index")
        self.counts.platforms.append(str(child.platform))
        return self.copy_manifest(manifest)

    def copy_index(self, index: RawManifest, depth: int) -> RawManifest:
        if depth >= MAX_INDEX_DEPTH:
            raise ManifestRefusedError(str(index.digest), f"indexes nested deeper than {depth}")
        written: dict[str, Descriptor] = {}
        for child in index_children(index):
            if child.digest == index.digest:
                raise ManifestRefusedError(str(index.digest), "the index lists itself")
            manifest = self.source.manifest(child.digest)
            if manifest.is_index:
                final = self.copy_index(manifest, depth + 1)
            else:
                if child.platform is not None:
                    self.counts.platforms.append(str(child.platform))
                final = self.copy_manifest(manifest)
            written[str(child.digest)] = final.descriptor
        final = self._converted(index, written)
        self.destination.put_manifest(final)
        self.copied.append(final.digest)
        return final

    def copy_manifest(self, raw: RawManifest) -> RawManifest:
        manifest = _manifest(raw)
        docker = raw.media_type == media_types.DOCKER_MANIFEST
        if self.options.format is not None:
            docker = self.options.format == "v2s2"
        self._converted(raw)  # refuse what cannot be converted before moving any blob

        def copy_config() -> Descriptor:
            self.copy_blob(manifest.config, BlobKind.CONFIG)
            return manifest.config

        calls = [
            copy_config,
            *(functools.partial(self.copy_layer, d, docker) for d in manifest.layers),
        ]
        layers = run_bounded(calls, self.options.parallel, "porter-copy")[1:]
        if layers != list(manifest.layers):
            raw = self._checked_change(raw, with_layers(raw, layers), "recompressing layers")
        final = self._converted(raw)
        self.destination.put_manifest(final)
        self.copied.append(final.digest)
        return final

    def _converted(
        self, raw: RawManifest, children: dict[str, Descriptor] | None = None
    ) -> RawManifest:
        if self.options.format is None:
            return raw
        final = convert(raw, self.options.format, children)
        return self._checked_change(raw, final, f"converting to {self.options.format}")

    def _checked_change(self, raw: RawManifest, final: RawManifest, how: str) -> RawManifest:
        if self.options.preserve_digests and final.digest != raw.digest:
            raise ImageError(
                f"manifest {raw.digest}", f"{how} would change its digest (--preserve-digests)"
            )
        return final

    def copy_referrers(self, depth: int) -> None:
        """Copy what refers to the manifests copied so far, then what refers to those."""
        subjects, self.copied = self.copied, []
        for subject in subjects:
            for referrer in self.source.referrers(subject):
                manifest = self.source.manifest(referrer.digest)
                if manifest.is_index:
                    final = self.copy_index(manifest, 0)
                else:
                    final = self.copy_manifest(manifest)
                self.destination.add_referrer(final)
                self.referrers += 1
        if self.copied and depth + 1 < MAX_REFERRER_DEPTH:
            self.copy_referrers(depth + 1)

    # -- blobs -----------------------------------------------------------------------------

    def copy_layer(self, layer: Descriptor, docker: bool) -> Descriptor:
        """Copy a layer, recompressed when asked; returns the descriptor written."""
        wanted = self.options.dest_compress
        current = compression_of(layer.media_type)
        if wanted is None or current is None or current == wanted:
            self.copy_blob(layer, BlobKind.LAYER)
            return layer
        media_type = target_media_type(wanted, docker, f"layer {layer.digest}")
        with tempfile.TemporaryDirectory(prefix="porter-recompress-") as folder:
            with self.source.open_blob(layer) as stream:
                new, path = recompress(stream, layer, wanted, media_type, Path(folder))
            self._store(new, BlobKind.LAYER, functools.partial(open, path, "rb"))
        return new

    def copy_blob(self, descriptor: Descriptor, kind: BlobKind) -> None:
        if descriptor.urls and descriptor.media_type in _FOREIGN:
            return  # a foreign layer is fetched from its URLs by whoever runs it
        self.emit(descriptor, kind, Status.PREPARING if self.pushing else Status.PULLING)
        if self.destination.has_blob(descriptor):
            self._count(skipped=1)
            self.emit(descriptor, kind, Status.LAYER_EXISTS if self.pushing else Status.EXISTS)
            return
        origin = self.source.origin()
        if origin is not None and self.destination.mount_blob(descriptor, origin):
            self._count(mounted=1)
            self.emit(descriptor, kind, Status.MOUNTED, detail=origin.repository)
            return
        self._transfer(descriptor, kind, lambda: self.source.open_blob(descriptor))
        self._count(copied=1, size=descriptor.size)
        done = Status.PUSHED if self.pushing else Status.DOWNLOADED
        self.emit(descriptor, kind, done, descriptor.size)

    def _store(self, descriptor: Descriptor, kind: BlobKind, opener: BlobOpener) -> None:
        """Store a blob made here (a recompressed layer), unless the destination has it."""
        if self.destination.has_blob(descriptor):
            self._count(skipped=1)
            self.emit(descriptor, kind, Status.LAYER_EXISTS if self.pushing else Status.EXISTS)
            return
        self._transfer(descriptor, kind, opener)
        self._count(copied=1, size=descriptor.size)
        done = Status.PUSHED if self.pushing else Status.DOWNLOADED
        self.emit(descriptor, kind, done, descriptor.size)

    def _transfer(self, descriptor: Descriptor, kind: BlobKind, opener: BlobOpener) -> None:
        """Store the blob, starting again after a dropped stream (the registry's retries are
        per request; a stream that breaks half-way is retried here)."""
        status = Status.PUSHING if self.pushing else Status.DOWNLOADING
        for attempt in range(self.options.retries + 1):
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n
                self.emit(descriptor, kind, status, done)

            try:
                self.destination.put_blob(descriptor, opener, advance)
                return
            except RegistryUnavailableError as exc:
                if attempt == self.options.retries:
                    raise
                self.emit(descriptor, kind, Status.RETRYING, detail=str(exc))

    def _count(self, copied: int = 0, skipped: int = 0, mounted: int = 0, size: int = 0) -> None:
        with self.counts.lock:
            self.counts.copied += copied
            self.counts.skipped += skipped
            self.counts.mounted += mounted
            self.counts.bytes += size

    def emit(
        self,
        descriptor: Descriptor,
        kind: BlobKind,
        status: Status,
        current: int = 0,
        detail: str = "",
    ) -> None:
        if self.options.progress is None:
            return
        event = ProgressEvent(
            short_id(descriptor.digest),
            descriptor.digest,
            kind,
            status,
            current,
            descriptor.size,
            detail,
        )
        self.options.progress(event)


_FOREIGN = frozenset(
    {
        media_types.DOCKER_FOREIGN_LAYER_TAR_GZIP,
        media_types.LAYER_NONDISTRIBUTABLE_TAR,
        media_types.LAYER_NONDISTRIBUTABLE_TAR_GZIP,
        media_types.LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
    }
)


def _manifest(raw: RawManifest) -> Manifest:
    try:
        return Manifest.from_json(raw.document())
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise ManifestRefusedError(str(raw.digest), f"invalid manifest: {exc}") from exc


def index_children(index: RawManifest) -> list[Descriptor]:
    """An index's entries, each a manifest or an index, or ManifestRefusedError."""
    try:
        children = [Descriptor.from_json(d) for d in index.document().get("manifests") or []]
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise ManifestRefusedError(str(index.digest), f"invalid index: {exc}") from exc
    for child in children:
        if child.media_type not in media_types.MANIFESTS | media_types.INDEXES:
            raise ManifestRefusedError(
                str(index.digest), f"index entry {child.digest} is a {child.media_type!r}"
            )
    return children
