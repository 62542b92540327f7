"""porter context rm."""

from __future__ import annotations

import click

from porter_cli.command import each, session


@click.command("rm")
@click.option("-f", "--force", is_flag=True, help="Remove the context even if it is in use")
@click.argument("names", nargs=-1, required=True)
def command(force: bool, names: tuple[str, ...]) -> None:
    """Remove one or more contexts."""
    from porter_cli.contexts import ContextStore
    from porter_cli.errors import CliError

    current = session()
    store = ContextStore(current.config_dir)

    def remove(name: str) -> None:
        in_use = current.config.current_context == name
        if in_use and not force:
            raise CliError(
                f"context {name!r} is in use: 'porter context use' another one, or use -f"
            )
        store.remove(name)
        if in_use:
            current.config.set_current_context(None)

    each(names, remove, parallel=False)
