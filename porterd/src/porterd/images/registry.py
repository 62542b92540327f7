"""Pull and push through porter-image's `copy_image`, with Docker's JSON progress messages.

A pull copies into the store's layout under a plain incoming tag, then names the image by its
reference and by `repository@digest`, and unpacks its snapshots. Progress goes to `emit` as the
dicts dockerd streams; the first one is only sent once the registry has answered for the
manifest, so a failure before that (no such image, refused credentials) is an HTTP status.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit

from porter_image.copy import CopyOptions, copy_image
from porter_image.copy_events import BlobKind, ProgressEvent, Status
from porter_image.distribution.auth import Credentials
from porter_image.distribution.errors import (
    ManifestRefusedError,
    RegistryError,
    RegistryNotFoundError,
    RegistryUnauthorizedError,
    RegistryUnavailableError,
)
from porter_image.errors import ImageError, LayoutError
from porter_image.reference import DOCKER_HUB, DockerReference
from porter_image.transport import LayoutName, RegistryName
from porter_specs.errors import PorterError
from porter_specs.models import Platform

from porterd import errors
from porterd.images.importing import incoming_tag
from porterd.images.records import StoredImage

if TYPE_CHECKING:
    from porterd.images.store import ImageStore

Emit = Callable[[dict[str, Any]], None]
log = logging.getLogger("porterd.images")
_DONE = {Status.DOWNLOADED, Status.PUSHED, Status.LAYER_EXISTS, Status.MOUNTED, Status.EXISTS}


@dataclass(frozen=True)
class RegistrySettings:
    """What porterd's flags say about registries: `--insecure-registry` hosts (plain HTTP or
    unverified TLS allowed) and `--registry-mirror` URLs tried, in order, before Docker Hub
    for Hub images (as dockerd does; a mirror that fails or lacks the image is skipped)."""

    insecure_registries: tuple[str, ...] = ()
    registry_mirrors: tuple[str, ...] = ()

    def sources(self, reference: DockerReference) -> list[DockerReference]:
        """Where to pull `reference` from: the mirrors first for a Hub image, then itself."""
        if reference.domain != DOCKER_HUB:
            return [reference]
        hosts = [_url(mirror).netloc for mirror in self.registry_mirrors]
        return [replace(reference, domain=host) for host in hosts if host] + [reference]

    def insecure(self) -> tuple[str, ...]:
        """The insecure registries, with the mirrors given as plain `http://` URLs."""
        plain = [_url(m).netloc for m in self.registry_mirrors if _url(m).scheme == "http"]
        return (*self.insecure_registries, *plain)


def _url(mirror: str) -> SplitResult:
    return urlsplit(mirror if "://" in mirror else f"https://{mirror}")


def pull(
    store: ImageStore,
    reference: DockerReference,
    emit: Emit,
    platform: Platform | None = None,
    credentials: Credentials | None = None,
) -> StoredImage:
    """`POST /images/create?fromImage=`: copy `reference` in and name it."""
    before = _known(store, str(reference))
    relay = _Relay(emit, {"status": f"Pulling from {reference.path}", "id": reference.identifier})
    options = CopyOptions(
        platform=platform,
        src_credentials=credentials,
        insecure_registries=store.registry.insecure(),
        progress=relay,
    )
    tag = incoming_tag()
    destination = LayoutName(store.layout_path, tag)
    sources = store.registry.sources(reference)
    for source in sources:
        try:
            result = copy_image(RegistryName(source), destination, options)
            break
        except (RegistryNotFoundError, RegistryUnavailableError) as exc:
            if source is sources[-1]:
                raise daemon_error(exc, reference) from exc
            log.warning("registry mirror %s failed, trying the next source: %s", source, exc)
        except PorterError as exc:
            raise daemon_error(exc, reference) from exc
        except OSError as exc:  # the store's own disk: full, read-only
            store.collect_later()
            raise errors.DaemonError(f"pull {reference.familiar()}: {exc.strerror or exc}") from exc
    relay.start()
    # the name asked for (a tag, or a digest that may be an index's) and the digest stored
    names = sorted({str(reference), f"{reference.name}@{result.digest}"})
    stored = store.adopt(tag, names)
    emit({"status": f"Digest: {result.digest}"})
    fresh = before != stored.id
    word = "Downloaded newer image for" if fresh else "Image is up to date for"
    emit({"status": f"Status: {word} {reference.familiar()}"})
    store._publish("pull", reference.familiar(), reference.familiar())
    return stored


def push(
    store: ImageStore,
    references: Iterable[DockerReference],
    emit: Emit,
    credentials: Credentials | None = None,
) -> None:
    """`POST /images/{name}/push`: copy each named reference out to its registry."""
    for reference in references:
        stored = store.get(str(reference))
        source = LayoutName(store.layout_path, digest=stored.manifest_digest)
        relay = _Relay(emit, {"status": f"The push refers to repository [{reference.name}]"})
        options = CopyOptions(
            dest_credentials=credentials,
            insecure_registries=store.registry.insecure(),
            progress=relay,
        )
        try:
            result = copy_image(source, RegistryName(reference), options)
        except PorterError as exc:
            raise daemon_error(exc, reference) from exc
        relay.start()
        tag = reference.tag or "latest"
        emit({"status": f"{tag}: digest: {result.digest} size: {result.size}"})
        emit(
            {
                "progressDetail": {},
                "aux": {"Tag": tag, "Digest": str(result.digest), "Size": result.size},
            }
        )
        store._publish("push", reference.familiar(), reference.familiar())


def daemon_error(exc: PorterError, reference: DockerReference) -> errors.DaemonError:
    """A registry's or the copy's error as dockerd answers it."""
    if isinstance(exc, RegistryNotFoundError):
        return errors.NotFound(
            f"pull access denied for {reference.familiar_name()}, repository does not exist or"
            f" may require 'docker login': {exc}"
        )
    if isinstance(exc, RegistryUnauthorizedError):
        return errors.Unauthorized(str(exc))
    if isinstance(exc, RegistryUnavailableError):
        return errors.Unavailable(str(exc))
    if isinstance(exc, ManifestRefusedError | ImageError | RegistryError | LayoutError):
        return errors.InvalidParameter(str(exc))
    return errors.DaemonError(str(exc))


def _known(store: ImageStore, name: str) -> str | None:
    try:
        return store.get(name).id
    except errors.NotFound:
        return None


class _Relay:
    """Copy events as dockerd's progress messages; `first` goes out before the first one."""

    def __init__(self, emit: Emit, first: dict[str, Any]) -> None:
        self._emit = emit
        self._first: dict[str, Any] | None = first
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            if self._first is not None:
                self._emit(self._first)
                self._first = None

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind == BlobKind.CONFIG:
            return  # dockerd shows the layers only
        self.start()
        message: dict[str, Any] = {"status": event.message, "progressDetail": {}, "id": event.id}
        if event.status in (Status.DOWNLOADING, Status.PUSHING) and event.total:
            message["progressDetail"] = {"current": event.current, "total": event.total}
            message["progress"] = _bar(event.current, event.total)
        elif event.status in _DONE:
            message.pop("progressDetail")
        with self._lock:
            self._emit(message)


def _bar(current: int, total: int) -> str:
    """dockerd's progress bar: 50 columns, then the sizes."""
    filled = min(50, current * 50 // total) if total else 0
    arrow = ">" if filled < 50 else ""
    bar = "=" * max(filled - (1 if arrow else 0), 0) + arrow
    return f"[{bar:<50}] {_size(current)}/{_size(total)}"


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.4g}{unit}"
        n /= 1000
    return f"{n:.4g}GB"
