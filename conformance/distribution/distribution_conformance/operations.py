"""The few multi-request operations that fixtures and checks share (push a blob, an image)."""

from __future__ import annotations

import requests

from .checks import describe, expect_location, expect_status
from .client import RegistryClient
from .content import ACCEPT_MANIFESTS, OCTET_STREAM, Blob, Document


def start_upload(client: RegistryClient, repo: str) -> requests.Response:
    """POST an empty upload request; the session URL is in the answer's Location."""
    response = client.post(f"/v2/{repo}/blobs/uploads/", headers={"Content-Length": "0"})
    expect_status(response, 202)
    expect_location(response)
    return response


def push_blob(client: RegistryClient, repo: str, blob: Blob) -> requests.Response:
    """Upload a blob monolithically (POST then PUT), the way every client can."""
    location = expect_location(start_upload(client, repo))
    response = client.put(
        location,
        params={"digest": blob.digest},
        headers={"Content-Type": OCTET_STREAM},
        data=blob.data,
    )
    expect_status(response, 201)
    return response


def put_manifest(
    client: RegistryClient, repo: str, reference: str, body: bytes, media_type: str
) -> requests.Response:
    """PUT a manifest's bytes and return the answer, whatever it is."""
    return client.put(
        f"/v2/{repo}/manifests/{reference}", headers={"Content-Type": media_type}, data=body
    )


def push_manifest(
    client: RegistryClient, repo: str, reference: str, document: Document
) -> requests.Response:
    response = put_manifest(client, repo, reference, document.body, document.media_type)
    assert response.status_code == 201, f"manifest push failed:\n{describe(response)}"
    return response


def push_blobs_of(client: RegistryClient, repo: str, document: Document) -> None:
    for blob in document.blobs:
        push_blob(client, repo, blob)


def push_image(
    client: RegistryClient, repo: str, document: Document, reference: str | None = None
) -> requests.Response:
    """Push the blobs a manifest references, then the manifest (by digest unless tagged)."""
    push_blobs_of(client, repo, document)
    return push_manifest(client, repo, reference or document.digest, document)


def get_manifest(client: RegistryClient, repo: str, reference: str) -> requests.Response:
    """GET a manifest accepting every manifest type, so a 404 means it is really gone."""
    return client.get(f"/v2/{repo}/manifests/{reference}", headers={"Accept": ACCEPT_MANIFESTS})
