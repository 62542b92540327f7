"""Options of the commands that talk to registries, as skopeo spells them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from porter_specs.errors import PorterError

from porter_image.reference import DockerReference, parse_docker_reference
from porter_image.transport import ImageName, parse_image_name

if TYPE_CHECKING:
    from porter_image.distribution.auth import Credentials
    from porter_image.distribution.client import RegistryOptions

# The registry client (and requests) is imported when a command runs, not when `inspect`
# of a layout merely declares these options.
F = TypeVar("F", bound=Callable[..., Any])


class ImageNameType(click.ParamType):
    """A skopeo-style image name (docker://, oci:, LAYOUT:TAG, oci-archive:, docker-archive:)."""

    name = "IMAGE"

    def convert(self, value: Any, param: Any, ctx: Any) -> ImageName:
        if not isinstance(value, str):
            return value  # type: ignore[no-any-return]
        try:
            return parse_image_name(value)
        except PorterError as exc:
            self.fail(str(exc), param, ctx)


class RegistryImageType(ImageNameType):
    """`docker://HOST/REPO[:TAG|@DIGEST]` only; `repository_only` leaves off the default tag."""

    name = "docker://REF"

    def __init__(self, repository_only: bool = False) -> None:
        self.repository_only = repository_only

    def convert(self, value: Any, param: Any, ctx: Any) -> DockerReference:
        if isinstance(value, DockerReference):
            return value
        if not value.startswith("docker://"):
            self.fail(f"{value!r}: expected docker://HOST/REPO", param, ctx)
        try:
            reference = parse_docker_reference(value[9:], default_tag=not self.repository_only)
        except PorterError as exc:
            self.fail(str(exc), param, ctx)
        if self.repository_only and (reference.tag or reference.digest):
            self.fail(f"{value!r}: name a repository, without tag or digest", param, ctx)
        return reference


IMAGE_NAME = ImageNameType()
REGISTRY_IMAGE = RegistryImageType()
REGISTRY_REPOSITORY = RegistryImageType(repository_only=True)


def credentials_value(ctx: Any, param: Any, value: str | None) -> Credentials | None:
    """`USER[:PASSWORD]`; without the password it is asked for on the terminal."""
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not user:
        raise click.BadParameter("expected USER[:PASSWORD]", ctx, param)
    if not sep:
        password = click.prompt(f"Password for {user}", hide_input=True, err=True)
    from porter_image.distribution.auth import Credentials

    return Credentials(user, password)


def tls_verify_option(name: str, what: str) -> Callable[[F], F]:
    return click.option(
        name,
        type=click.BOOL,
        default=True,
        is_flag=False,
        flag_value=True,
        metavar="BOOL",
        help=f"Require HTTPS and verify certificates {what} (false: allow plain HTTP).",
    )


def credentials_option(name: str, what: str) -> Callable[[F], F]:
    return click.option(
        name,
        callback=credentials_value,
        metavar="USER[:PASS]",
        help=f"Credentials {what} (default: the stored ones, see `login`).",
    )


def common_registry_options(f: F) -> F:
    """--insecure-registry, --retry-times and --cert-dir."""
    f = click.option(
        "--cert-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder of HOST:PORT/ folders with ca.crt, client.cert and client.key "
        "(default: docker's /etc/docker/certs.d).",
    )(f)
    f = click.option(
        "--retry-times",
        type=click.IntRange(0, 100),
        default=3,
        show_default=True,
        help="Retries of a failed request (connection errors, 5xx, 429).",
    )(f)
    return click.option(
        "--insecure-registry",
        "insecure_registries",
        multiple=True,
        metavar="HOST[:PORT]",
        help="Allow plain HTTP for this registry (loopback hosts always are); repeatable.",
    )(f)


def registry_options(f: F) -> F:
    """--creds, --tls-verify and the common options, for commands with one registry."""
    f = credentials_option("--creds", "for the registry")(f)
    f = tls_verify_option("--tls-verify", "of the registry")(f)
    return common_registry_options(f)


def options_from(kwargs: dict[str, Any]) -> RegistryOptions:
    """The RegistryOptions the `registry_options` values ask for (popped from kwargs)."""
    from porter_image.distribution.client import RegistryOptions

    cert_dir = kwargs.pop("cert_dir")
    return RegistryOptions(
        credentials=kwargs.pop("creds", None),
        tls_verify=kwargs.pop("tls_verify"),
        insecure_registries=tuple(kwargs.pop("insecure_registries")),
        retries=kwargs.pop("retry_times"),
        **({"certs_dir": cert_dir} if cert_dir is not None else {}),
    )
