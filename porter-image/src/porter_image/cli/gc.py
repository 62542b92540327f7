"""`porter-image gc LAYOUT`."""

from __future__ import annotations

from pathlib import Path

import click

from porter_image.cli.options import format_option, print_json
from porter_image.layout import Layout


@click.command("gc")
@click.argument("layout", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@format_option
def command(layout: Path, dry_run: bool, output_format: str) -> None:
    """Remove blobs that nothing reachable from index.json references.

    The builder's memos of context file digests whose folder no longer exists go as well.

    Refuses to run when a referenced manifest or index is missing or unreadable (what it
    references would look unreferenced). Waits for writers to finish first.
    """
    opened = Layout.open(layout)
    removed = opened.gc(dry_run=dry_run)
    if not dry_run:
        from porter_image.build.file_digests import FileDigests

        FileDigests.of_layout(opened.path).prune()
    if output_format == "json":
        print_json({"dryRun": dry_run, "removed": [str(d) for d in removed]})
        return
    verb = "would remove" if dry_run else "removed"
    for digest in removed:
        click.echo(f"{verb} {digest}")
    click.echo(f"{verb} {len(removed)} blob{'s' if len(removed) != 1 else ''}")
