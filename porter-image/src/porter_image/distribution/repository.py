"""One repository of a registry: manifests, blobs, uploads, tags, referrers, deletes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO
from urllib.parse import urljoin

from porter_specs.canonical import canonical_json
from porter_specs.digest import Digest, from_bytes
from porter_specs.media_types import IMAGE_INDEX
from porter_specs.models import Descriptor

from porter_image.distribution.auth import repository_scope
from porter_image.distribution.client import RegistryClient
from porter_image.distribution.errors import (
    RegistryError,
    RegistryNotFoundError,
    RegistryUnavailableError,
)
from porter_image.distribution.manifests import (
    ACCEPT,
    MANIFEST_LIMIT,
    ManifestRefusedError,
    RawManifest,
    check_manifest,
)
from porter_image.distribution.response import Response, count_of
from porter_image.distribution.uploads import BlobUpload

MAX_TAG_PAGES = 10000
CHUNK = 1 << 20


class Repository:
    """`NAME` on the registry `client` talks to."""

    def __init__(self, client: RegistryClient, name: str) -> None:
        self.client = client
        self.name = name
        self.pull = (repository_scope(name, "pull"),)
        self.push = (repository_scope(name, "pull", "push"),)

    def where(self, what: str = "") -> str:
        return f"{self.client.host}/{self.name}{what}"

    # -- manifests -------------------------------------------------------------------------

    def get_manifest(self, reference: str) -> RawManifest:
        """The manifest `reference` (tag or digest) names, checked (see `check_manifest`)."""
        where = self.where(_at(reference))
        response = self.client.request(
            "GET",
            f"/v2/{self.name}/manifests/{reference}",
            self.pull,
            headers={"Accept": ACCEPT},
            stream=True,
        )
        with response:
            if response.status_code != 200:
                raise self.client.error(response, where)
            data = _read_limited(response, where)
        expected = _digest_or_none(reference)
        if expected is None:
            expected = _digest_or_none(response.headers.get("Docker-Content-Digest", ""))
        return check_manifest(data, response.headers.get("Content-Type", ""), where, expected)

    def head_manifest(self, reference: str) -> Descriptor | None:
        """The manifest's descriptor from a HEAD, None when the registry does not have it."""
        response = self.client.request(
            "HEAD", f"/v2/{self.name}/manifests/{reference}", self.pull, headers={"Accept": ACCEPT}
        )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.client.error(response, self.where(_at(reference)))
        digest = _digest_or_none(response.headers.get("Docker-Content-Digest", ""))
        length = count_of(response.headers.get("Content-Length"))
        if digest is None or length is None:
            return self.get_manifest(reference).descriptor  # what a HEAD did not say
        media_type = response.headers.get("Content-Type", "").split(";")[0]
        return Descriptor(media_type, digest, length)

    def resolve(self, reference: str) -> Descriptor:
        """The descriptor of the manifest a tag or digest names; RegistryNotFoundError if none."""
        descriptor = self.head_manifest(reference)
        if descriptor is None:
            raise RegistryNotFoundError(self.where(_at(reference)), "manifest not found", 404)
        return descriptor

    def put_manifest(self, reference: str, manifest: RawManifest) -> None:
        """Store `manifest` under a tag or its digest.

        A manifest with a `subject` pushed to a registry that does not say it indexed it
        (no `OCI-Subject` header) is added to the subject's referrers tag (`sha256-<hex>`),
        as the distribution-spec asks clients to do for registries without the referrers API.
        """
        response = self.client.request(
            "PUT",
            f"/v2/{self.name}/manifests/{reference}",
            self.push,
            headers={"Content-Type": manifest.media_type},
            body=manifest.data,
        )
        if response.status_code not in (200, 201, 202):
            raise self.client.error(response, self.where(_at(reference)))
        subject = manifest.document().get("subject")
        if isinstance(subject, dict) and "OCI-Subject" not in response.headers:
            self._add_to_referrers_tag(Descriptor.from_json(subject).digest, manifest)

    def _add_to_referrers_tag(self, subject: Digest, manifest: RawManifest) -> None:
        tag = f"{subject.algorithm}-{subject.encoded}"
        document = manifest.document()
        artifact_type = document.get("artifactType") or document["config"]["mediaType"]
        entry = Descriptor(
            manifest.media_type,
            manifest.digest,
            len(manifest.data),
            annotations=dict(document.get("annotations") or {}),
            artifact_type=artifact_type,
        ).to_json()
        index: dict[str, Any] = {"schemaVersion": 2, "mediaType": IMAGE_INDEX, "manifests": []}
        if self.head_manifest(tag) is not None:
            index = self.get_manifest(tag).document()
        entries = [m for m in index.get("manifests") or [] if m.get("digest") != entry["digest"]]
        index["manifests"] = [*entries, entry]
        data = canonical_json(index)
        self.put_manifest(tag, RawManifest(data, IMAGE_INDEX, from_bytes(data)))

    def delete_manifest(self, digest: Digest) -> None:
        response = self.client.request(
            "DELETE",
            f"/v2/{self.name}/manifests/{digest}",
            (repository_scope(self.name, "delete"),),
        )
        if response.status_code not in (200, 202):
            raise self.client.error(response, self.where(f"@{digest}"))

    # -- blobs -----------------------------------------------------------------------------

    def has_blob(self, descriptor: Descriptor) -> bool:
        response = self.client.request(
            "HEAD", f"/v2/{self.name}/blobs/{descriptor.digest}", self.pull
        )
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise self.client.error(response, self.where(f"@{descriptor.digest}"))
        return True

    def open_blob(self, descriptor: Descriptor) -> BlobStream:
        """A stream of the blob's bytes (the caller verifies them against the descriptor)."""
        where = self.where(f" blob {descriptor.digest}")
        path = f"/v2/{self.name}/blobs/{descriptor.digest}"
        response = self.client.request("GET", path, self.pull, stream=True)
        if response.status_code != 200:
            with response:
                raise self.client.error(response, where)
        length = response.headers.get("Content-Length")
        if length is not None and count_of(length) != descriptor.size:
            response.close()
            raise RegistryError(
                where, f"Content-Length {length[:40]} differs from the size {descriptor.size}"
            )

        def rest_from(offset: int) -> Response:
            headers = {"Range": f"bytes={offset}-"}
            return self.client.request("GET", path, self.pull, headers=headers, stream=True)

        return BlobStream(response, where, rest_from, self.client.options.retries)

    def read_blob(self, descriptor: Descriptor) -> bytes:
        """A small blob (a config) read whole; the caller verifies it."""
        if descriptor.size > MANIFEST_LIMIT:
            raise ManifestRefusedError(self.where(), f"blob {descriptor.digest} is too large")
        with self.open_blob(descriptor) as stream:
            return stream.read(descriptor.size + 1)

    def mount_blob(self, descriptor: Descriptor, source: str) -> bool:
        """Ask for the blob to be linked from repository `source`; True when it was."""
        scopes = (*self.push, repository_scope(source, "pull"))
        response = self.client.request(
            "POST",
            f"/v2/{self.name}/blobs/uploads/",
            scopes,
            params={"mount": str(descriptor.digest), "from": source},
        )
        if response.status_code == 201:
            return True
        if response.status_code == 202:
            self._cancel(response)
            return False
        raise self.client.error(response, self.where(f" mount {descriptor.digest}"))

    def upload_blob(
        self,
        descriptor: Descriptor,
        open_source: Callable[[], BinaryIO],
        progress: Callable[[int], None],
    ) -> None:
        """Upload the blob read from `open_source()`; see `porter_image.distribution.uploads`."""
        BlobUpload(self, descriptor, open_source, progress).run()

    def start_upload(self) -> str:
        """Open an upload session; returns its absolute location."""
        response = self.client.request("POST", f"/v2/{self.name}/blobs/uploads/", self.push)
        if response.status_code != 202 or "Location" not in response.headers:
            raise self.client.error(response, self.where(" upload"))
        return self.location(response)

    def location(self, response: Response) -> str:
        return urljoin(self.client.base_url + "/", response.headers["Location"])

    def _cancel(self, response: Response) -> None:
        if "Location" in response.headers:
            self.client.request("DELETE", self.location(response), self.push).close()

    # -- tags and referrers ----------------------------------------------------------------

    def tags(self) -> list[str]:
        """Every tag, following the `Link` header's pages."""
        tags: list[str] = []
        path: str | None = f"/v2/{self.name}/tags/list"
        for _ in range(MAX_TAG_PAGES):
            if path is None:
                return tags
            response = self.client.request("GET", path, self.pull)
            if response.status_code != 200:
                raise self.client.error(response, self.where(" tags"))
            document = _json_object(response, self.where(" tags"))
            tags += [t for t in document.get("tags") or [] if isinstance(t, str)]
            following = response.links.get("next", {}).get("url")
            path = urljoin(response.url, following) if following else None
        raise RegistryError(self.where(" tags"), f"more than {MAX_TAG_PAGES} pages")

    def referrers(self, digest: Digest, artifact_type: str = "") -> list[Descriptor]:
        """Manifests whose subject is `digest`: the referrers API, else the tag schema."""
        params = {"artifactType": artifact_type} if artifact_type else None
        response = self.client.request(
            "GET", f"/v2/{self.name}/referrers/{digest}", self.pull, params=params
        )
        where = self.where(f" referrers of {digest}")
        if response.status_code == 200:
            found = _descriptors(_json_object(response, where), where)
            if artifact_type and "OCI-Filters-Applied" not in response.headers:
                found = [d for d in found if d.artifact_type == artifact_type]
            return found
        if response.status_code != 404:
            raise self.client.error(response, where)
        fallback_tag = f"{digest.algorithm}-{digest.encoded}"
        if self.head_manifest(fallback_tag) is None:
            return []
        found = _descriptors(self.get_manifest(fallback_tag).document(), where)
        return [d for d in found if not artifact_type or d.artifact_type == artifact_type]


class BlobStream:
    """A blob's response body as a file: read errors become one RegistryError line.

    Where the registry serves ranges (`Accept-Ranges: bytes` on the first answer) and a
    `rest_from` is given, a stream cut short is asked for again from the first byte not yet
    read (`Range: bytes=N-`, which must be answered by 206 from that byte), up to `resumes`
    times, instead of the whole blob being fetched again."""

    def __init__(
        self,
        response: Response,
        where: str,
        rest_from: Callable[[int], Response] | None = None,
        resumes: int = 0,
    ) -> None:
        self._response = response
        self._where = where
        ranges = response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
        self._rest_from = rest_from if ranges else None
        self._resumes = resumes
        self._read = 0  # bytes handed to the reader so far
        self.resumed = 0

    def read(self, n: int = -1) -> bytes:
        if n < 0:  # in chunks: what one read of the rest held is lost if it is cut
            return b"".join(iter(lambda: self.read(CHUNK), b""))
        while True:
            try:
                data: bytes = self._response.read(n)
            except OSError as exc:
                if self._resume():
                    continue
                reason = f"stream cut short ({type(exc).__name__})"
                raise RegistryUnavailableError(self._where, reason) from exc
            self._read += len(data)
            return data

    def _resume(self) -> bool:
        """Whether the rest of the blob is being read now, from where the cut left it."""
        if self._rest_from is None or self.resumed >= self._resumes:
            return False
        self.resumed += 1
        self._response.close()
        try:
            response = self._rest_from(self._read)
        except RegistryError:
            return False
        content_range = response.headers.get("Content-Range", "")
        if response.status_code != 206 or not content_range.startswith(f"bytes {self._read}-"):
            response.close()
            return False
        self._response = response
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> BlobStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _at(reference: str) -> str:
    return f"@{reference}" if ":" in reference else f":{reference}"


def _digest_or_none(text: str) -> Digest | None:
    try:
        return Digest.parse(text) if text else None
    except ValueError:
        return None


def _read_limited(response: Response, where: str) -> bytes:
    length = count_of(response.headers.get("Content-Length"))
    if length is not None and length > MANIFEST_LIMIT:
        raise ManifestRefusedError(where, f"manifest larger than {MANIFEST_LIMIT} bytes")
    data = BlobStream(response, where).read(MANIFEST_LIMIT + 1)
    if len(data) > MANIFEST_LIMIT:
        raise ManifestRefusedError(where, f"manifest larger than {MANIFEST_LIMIT} bytes")
    return data


def _json_object(response: Response, where: str) -> dict[str, Any]:
    try:
        document = response.json()
    except ValueError:
        raise RegistryError(where, "answer is not JSON") from None
    if not isinstance(document, dict):
        raise RegistryError(where, "answer is not a JSON object")
    return document


def _descriptors(document: dict[str, Any], where: str) -> list[Descriptor]:
    try:
        return [Descriptor.from_json(d) for d in document.get("manifests") or []]
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise RegistryError(where, f"invalid descriptor: {exc}") from exc
