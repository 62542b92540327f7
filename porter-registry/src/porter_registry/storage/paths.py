"""Where each thing lives in the store (CNCF distribution's layout, simplified).

    blobs/<alg>/<hex[:2]>/<hex>/data                          every blob and manifest, once
    repositories/<name>/_layers/<alg>/<hex>/link              blobs the repository may serve
    repositories/<name>/_manifests/revisions/<alg>/<hex>/link manifests of the repository
    repositories/<name>/_manifests/revisions/<alg>/<hex>/mediatype
    repositories/<name>/_manifests/tags/<tag>/current/link    what a tag points at
    repositories/<name>/_manifests/referrers/<alg>/<hex>/<alg>/<hex>/link
                                                              manifests whose subject is <alg>:<hex>
    repositories/<name>/_uploads/<uuid>/{data,startedat,offset}
    gc.lock                                                   shared by pushes, exclusive for gc

Repositories hold only links, so a blob pushed to ten repositories is stored once.
"""

from __future__ import annotations

from porter_specs.digest import Digest

BLOBS = "blobs"
REPOSITORIES = "repositories"
GC_LOCK = "gc.lock"


def blob_dir(digest: Digest) -> str:
    return f"{BLOBS}/{digest.algorithm}/{digest.encoded[:2]}/{digest.encoded}"


def blob_data(digest: Digest) -> str:
    return f"{blob_dir(digest)}/data"


def repository(name: str) -> str:
    return f"{REPOSITORIES}/{name}"


def layers(name: str) -> str:
    return f"{REPOSITORIES}/{name}/_layers"


def layer_dir(name: str, digest: Digest) -> str:
    return f"{layers(name)}/{digest.algorithm}/{digest.encoded}"


def layer_link(name: str, digest: Digest) -> str:
    return f"{layer_dir(name, digest)}/link"


def manifests(name: str) -> str:
    return f"{REPOSITORIES}/{name}/_manifests"


def revisions(name: str) -> str:
    return f"{manifests(name)}/revisions"


def revision_dir(name: str, digest: Digest) -> str:
    return f"{revisions(name)}/{digest.algorithm}/{digest.encoded}"


def revision_link(name: str, digest: Digest) -> str:
    return f"{revision_dir(name, digest)}/link"


def revision_media_type(name: str, digest: Digest) -> str:
    return f"{revision_dir(name, digest)}/mediatype"


def tags(name: str) -> str:
    return f"{manifests(name)}/tags"


def tag_dir(name: str, tag: str) -> str:
    return f"{tags(name)}/{tag}"


def tag_link(name: str, tag: str) -> str:
    return f"{tag_dir(name, tag)}/current/link"


def referrers(name: str, subject: Digest) -> str:
    return f"{manifests(name)}/referrers/{subject.algorithm}/{subject.encoded}"


def referrer_link(name: str, subject: Digest, digest: Digest) -> str:
    return f"{referrers(name, subject)}/{digest.algorithm}/{digest.encoded}/link"


def uploads(name: str) -> str:
    return f"{REPOSITORIES}/{name}/_uploads"


def upload_dir(name: str, upload_id: str) -> str:
    return f"{uploads(name)}/{upload_id}"


def upload_data(name: str, upload_id: str) -> str:
    return f"{upload_dir(name, upload_id)}/data"


def upload_started(name: str, upload_id: str) -> str:
    return f"{upload_dir(name, upload_id)}/startedat"


def upload_offset(name: str, upload_id: str) -> str:
    return f"{upload_dir(name, upload_id)}/offset"


def digest_from_algorithm_dir(algorithm: str, encoded: str) -> Digest:
    """Rebuild a digest from the two path components a listing gives."""
    return Digest.parse(f"{algorithm}:{encoded}")
