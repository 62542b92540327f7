"""A registry as the source or the destination of a copy (`docker://`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, BinaryIO, cast

from porter_specs.digest import Digest, check, from_bytes
from porter_specs.models import Descriptor

from porter_image.credentials import find_credentials
from porter_image.distribution.client import RegistryClient, RegistryOptions
from porter_image.distribution.errors import ManifestRefusedError, RegistryError
from porter_image.distribution.manifests import RawManifest
from porter_image.distribution.repository import Repository
from porter_image.endpoints.base import BlobOpener, BlobOrigin, ByteCounter
from porter_image.reference import DockerReference


@dataclass(frozen=True)
class RegistryOrigin:
    host: str
    repository: str


def open_repository(reference: DockerReference, options: RegistryOptions) -> Repository:
    """The reference's repository, with the credentials docker or podman stored for its host
    when none are given (see `porter_image.credentials`)."""
    host = reference.registry_host
    if options.credentials is None and options.stored_credentials:
        options = replace(options, credentials=find_credentials(host))
    return Repository(RegistryClient(host, options), reference.path)


class RegistrySource:
    def __init__(self, reference: DockerReference, options: RegistryOptions) -> None:
        self.reference = reference
        self.repository = open_repository(reference, options)

    def top_manifest(self) -> RawManifest:
        return self.repository.get_manifest(self.reference.identifier)

    def manifest(self, digest: Digest) -> RawManifest:
        return self.repository.get_manifest(str(digest))

    def open_blob(self, descriptor: Descriptor) -> BinaryIO:
        return cast(BinaryIO, self.repository.open_blob(descriptor))

    def read_config(self, manifest: RawManifest) -> dict[str, Any]:
        """The config `manifest` names, read whole and checked against its descriptor.

        Raises ManifestRefusedError when the manifest has no valid config descriptor or the
        config is not a JSON object, and DigestMismatchError or SizeMismatchError when the
        registry's bytes are not the ones the descriptor promises.
        """
        try:
            descriptor = Descriptor.from_json(manifest.document()["config"])
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            where = f"{self.reference} manifest {manifest.digest}"
            raise ManifestRefusedError(where, f"no valid config descriptor: {error}") from error
        where = f"{self.reference} config {descriptor.digest}"
        data = self.repository.read_blob(descriptor)
        check(descriptor.digest, from_bytes(data), descriptor.size, len(data), where)
        try:
            config = json.loads(data) if data else {}
        except ValueError as error:
            raise ManifestRefusedError(where, f"config is not JSON: {error}") from error
        if not isinstance(config, dict):
            raise ManifestRefusedError(where, "config is not a JSON object")
        return config

    def referrers(self, digest: Digest) -> list[Descriptor]:
        return self.repository.referrers(digest)

    def origin(self) -> BlobOrigin | None:
        return RegistryOrigin(self.repository.client.host, self.repository.name)

    def close(self) -> None:
        self.repository.client.close()


class RegistryDestination:
    def __init__(self, reference: DockerReference, options: RegistryOptions) -> None:
        self.reference = reference
        self.repository = open_repository(reference, options)

    def has_blob(self, descriptor: Descriptor) -> bool:
        return self.repository.has_blob(descriptor)

    def mount_blob(self, descriptor: Descriptor, origin: BlobOrigin) -> bool:
        same_host = origin.host == self.repository.client.host
        if not same_host or origin.repository == self.repository.name:
            return False
        return self.repository.mount_blob(descriptor, origin.repository)

    def put_blob(self, descriptor: Descriptor, source: BlobOpener, progress: ByteCounter) -> None:
        self.repository.upload_blob(descriptor, source, progress)

    def put_manifest(self, manifest: RawManifest) -> None:
        self.repository.put_manifest(str(manifest.digest), manifest)

    def add_referrer(self, manifest: RawManifest) -> None:
        pass  # the registry lists it by its subject (or the pusher kept the tag schema)

    def commit(self, manifest: RawManifest) -> None:
        digest = self.reference.digest
        if digest is not None and digest != manifest.digest:
            raise RegistryError(
                str(self.reference), f"the copied manifest is {manifest.digest}, not {digest}"
            )
        if self.reference.tag:
            self.repository.put_manifest(self.reference.tag, manifest)
        else:
            self.repository.put_manifest(str(manifest.digest), manifest)

    def close(self, failed: bool) -> None:
        self.repository.client.close()
