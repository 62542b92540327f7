"""porter images / porter image ls: list images, one row per tag."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client, filter_option, filters_param, format_option, quiet_option

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
    import time

    from porter_cli.container.ls import short_id
    from porter_cli.formatter.units import human_size, since

    created = image.get("Created") or 0
    base = {
        "ID": short_id(image.get("Id", ""), truncate) if truncate else image.get("Id", ""),
        "CreatedSince": since(created) if created else "N/A",
        "CreatedAt": time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(created)),
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


@click.command("images")
@click.option(
    "-a", "--all", "all_", is_flag=True, help="Show all images (default hides intermediate images)"
)
@click.option("--digests", is_flag=True, help="Show digests")
@click.option("--no-trunc", is_flag=True, help="Don't truncate output")
@filter_option()
@format_option()
@quiet_option("image IDs")
@click.argument("reference", required=False)
def command(
    all_: bool,
    digests: bool,
    no_trunc: bool,
    filters: tuple[str, ...],
    format_: str | None,
    quiet: bool,
    reference: str | None,
) -> None:
    """List images."""
    from porter_cli.formatter.output import echo_rows

    params_filters = filters_param(filters) or {}
    if reference:
        params_filters.setdefault("reference", []).append(reference)
    images = (
        client().get_json("/images/json", {"all": all_ or None, "filters": params_filters or None})
        or []
    )
    listed = [row for image in images for row in rows(image, not no_trunc)]
    if quiet:
        seen: set[str] = set()
        listed = [r for r in listed if not (r["ID"] in seen or seen.add(r["ID"]))]  # type: ignore[func-returns-value]
        format_ = "{{.ID}}"
    default = DEFAULT.replace("\t{{.ID}}", "\t{{.Digest}}\t{{.ID}}") if digests else DEFAULT
    echo_rows(listed, format_, default, HEADERS)
