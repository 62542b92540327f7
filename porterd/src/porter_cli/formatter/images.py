"""`porter images`'s output: one row per repository:tag of the Engine API's image list, as
docker's formatter/image.go prints them, for porter_cli.image.ls under click and for
porter_cli.quick without it."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from porter_cli.client.api import Client

DEFAULT = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
HEADERS = {
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "ID": "IMAGE ID",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Containers": "CONTAINERS",
}


def rows(image: dict[str, Any], truncate: bool) -> list[dict[str, Any]]:
    """One row per repository:tag (`<none>` for an untagged image)."""
    from porter_cli.formatter.containers import short_id
    from porter_cli.formatter.units import created_at, human_size, since

    created = image.get("Created") or 0
    base = {
        "ID": short_id(image.get("Id", ""), truncate) if truncate else image.get("Id", ""),
        "CreatedSince": since(created) if created else "N/A",
        "CreatedAt": created_at(created),
        "Size": human_size(image.get("Size") or 0),
        "Containers": str(image["Containers"]) if image.get("Containers", -1) >= 0 else "N/A",
    }
    digests = [d.partition("@")[2] for d in image.get("RepoDigests") or []]
    digest = digests[0] if digests else "<none>"
    tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
    if not tags:
        repository = (image.get("RepoDigests") or ["<none>@"])[0].partition("@")[0]
        return [{**base, "Repository": repository, "Tag": "<none>", "Digest": digest}]
    result = []
    for tag in tags:
        repository, _, name = tag.rpartition(":")
        result.append({**base, "Repository": repository, "Tag": name, "Digest": digest})
    return result


def list_images(
    client: Client,
    *,
    all_: bool = False,
    digests: bool = False,
    no_trunc: bool = False,
    filters: dict[str, list[str]] | None = None,
    format_: str | None = None,
    quiet: bool = False,
    reference: str | None = None,
) -> None:
    """Print the images as `porter images` with these options does."""
    from porter_cli.formatter.output import echo_rows

    wanted = dict(filters or {})
    if reference:
        wanted["reference"] = [*wanted.get("reference", []), reference]
    images = client.get_json("/images/json", {"all": all_ or None, "filters": wanted or None})
    listed = [row for image in images or [] for row in rows(image, not no_trunc)]
    if quiet:
        seen: set[str] = set()
        listed = [r for r in listed if not (r["ID"] in seen or seen.add(r["ID"]))]  # type: ignore[func-returns-value]
        format_ = "{{.ID}}"
    default = DEFAULT.replace("\t{{.ID}}", "\t{{.Digest}}\t{{.ID}}") if digests else DEFAULT
    echo_rows(listed, format_, default, HEADERS)
