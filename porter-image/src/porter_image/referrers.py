"""The artifacts (signatures, SBOMs, ...) whose subject is an image, wherever it is.

    found = list_referrers(parse_image_name("oci:/srv/layout@sha256:..."), RegistryOptions())

A registry answers with its referrers API (or the tag schema where it lacks one); a layout
or an oci-archive is searched for the manifests listed in its index.json whose subject is
the image, as `oras discover --oci-layout` does.
"""

from __future__ import annotations

from porter_specs.models import Descriptor

from porter_image.distribution.client import RegistryOptions
from porter_image.endpoints.open import open_source
from porter_image.endpoints.registry import open_repository
from porter_image.transport import ImageName, RegistryName


def list_referrers(
    name: ImageName, options: RegistryOptions, artifact_type: str = ""
) -> list[Descriptor]:
    """The referrers of the image `name` points at, of `artifact_type` when given."""
    if isinstance(name, RegistryName):
        repository = open_repository(name.reference, options)
        try:
            subject = repository.resolve(name.reference.identifier)
            return repository.referrers(subject.digest, artifact_type)
        finally:
            repository.client.close()
    source = open_source(name, options)
    try:
        found = source.referrers(source.top_manifest().digest)
    finally:
        source.close()
    return [d for d in found if not artifact_type or d.artifact_type == artifact_type]
