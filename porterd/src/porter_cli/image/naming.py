"""Image names given on the command line, parsed once with one error line for a bad one."""

from __future__ import annotations

from porter_cli.client.reference import Reference, parse
from porter_cli.errors import CliError


def parse_reference(name: str) -> Reference:
    try:
        return parse(name)
    except ValueError as error:
        raise CliError(str(error)) from error


def repo_tag_params(repository: str | None) -> dict[str, str]:
    """commit's and import's `repo` and `tag` parameters for REPOSITORY[:TAG] (none if None)."""
    if not repository:
        return {}
    ref = parse_reference(repository)
    if ref.digest:
        raise CliError(f"refusing to create a tag with a digest reference: {repository}")
    return {"repo": ref.repository, "tag": ref.tag or "latest"}


def auth_header(ref: Reference) -> dict[str, str]:
    """The X-Registry-Auth header for the registry of `ref`, from the login kept for it."""
    from porter_cli.client.auth import registry_auth_header
    from porter_cli.command import session

    stored = session().config.auth(ref.registry)
    return {"X-Registry-Auth": registry_auth_header(stored, ref.registry)}
