"""porter service create."""

from __future__ import annotations

from typing import Any

import click

from porter_cli.command import client
from porter_cli.service.spec import apply_shared, publish, shared_options


@click.command("create", context_settings={"allow_interspersed_args": False})
@click.option("--name", help="Service name")
@click.option(
    "--mode",
    type=click.Choice(["replicated", "global"]),
    default="replicated",
    show_default=True,
    help="Service mode",
)
@click.option("-p", "--publish", "ports", multiple=True, help="Publish a port as a node port")
@click.option("-e", "--env", multiple=True, help="Set environment variables")
@click.option("--mount", multiple=True, help="Attach a filesystem mount to the service")
@click.option("--network", multiple=True, help="Network attachments")
@click.option("--constraint", multiple=True, help="Placement constraints")
@click.option("-l", "--label", multiple=True, help="Service labels")
@click.option("--container-label", multiple=True, help="Container labels")
@click.option("-w", "--workdir", help="Working directory inside the container")
@click.option("-u", "--user", help="Username or UID")
@click.option("--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
@shared_options
@click.argument("image")
@click.argument("args", nargs=-1)
def command(image: str, args: tuple[str, ...], **o: Any) -> None:
    """Create a new service running IMAGE [COMMAND] [ARG...]."""
    from porter_cli.container import parsing

    container: dict[str, Any] = {"Image": image}
    if args:
        container["Args"] = list(args)
    if o["entrypoint"]:
        container["Command"] = [o["entrypoint"]]
    if o["env"]:
        container["Env"] = parsing.env_list(o["env"], ())
    if o["mount"]:
        container["Mounts"] = [parsing.mount(item) for item in o["mount"]]
    if o["container_label"]:
        container["Labels"] = parsing.key_values("--label", o["container_label"])
    if o["workdir"]:
        container["Dir"] = o["workdir"]
    if o["user"]:
        container["User"] = o["user"]
    template: dict[str, Any] = {"ContainerSpec": container}
    if o["constraint"]:
        template["Placement"] = {"Constraints": list(o["constraint"])}
    if o["network"]:
        template["Networks"] = [{"Target": name} for name in o["network"]]
    spec: dict[str, Any] = {
        "Name": o["name"] or _generated_name(),
        "Labels": parsing.key_values("--label", o["label"]),
        "TaskTemplate": template,
        "Mode": {"Global": {}} if o["mode"] == "global" else {"Replicated": {"Replicas": 1}},
        "EndpointSpec": {"Ports": [publish(item) for item in o["ports"]]},
    }
    apply_shared(spec, o)
    click.echo(client().post_json("/services/create", body=spec)["ID"])


def _generated_name() -> str:
    import secrets

    return "service-" + secrets.token_hex(4)
