"""porter context inspect."""

from __future__ import annotations

import click

from porter_cli.command import format_option, session


@click.command("inspect")
@format_option("Format output: 'json' or a Go template", short=True)
@click.argument("names", nargs=-1)
def command(format_: str | None, names: tuple[str, ...]) -> None:
    """Display detailed information on one or more contexts (the current one by default)."""
    from porter_cli.contexts import Context, ContextStore
    from porter_cli.formatter.output import render_inspect

    current = session()
    store = ContextStore(current.config_dir)
    contexts = []
    for name in names or (current.context_name(),):
        if name == "default":
            contexts.append(
                Context(
                    "default", current.endpoint.host if not current.options.context else ""
                ).to_json()
            )
        else:
            contexts.append(store.load(name).to_json())
    click.echo(render_inspect(contexts, format_))
