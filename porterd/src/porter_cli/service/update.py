"""porter service update."""

from __future__ import annotations

import copy
from typing import Any

import click

from porter_cli.service.spec import apply_shared, publish, shared_options


@click.command("update")
@click.option("--image", help="Service image tag")
@click.option("--args", help="Service command args (replaces them)")
@click.option("--env-add", multiple=True, help="Add or update an environment variable")
@click.option("--env-rm", multiple=True, help="Remove an environment variable")
@click.option("--label-add", multiple=True, help="Add or update a service label")
@click.option("--label-rm", multiple=True, help="Remove a label by its key")
@click.option("--publish-add", multiple=True, help="Add or update a published port")
@click.option("--publish-rm", multiple=True, help="Remove a published port by its target port")
@click.option("--constraint-add", multiple=True, help="Add or update a placement constraint")
@click.option("--constraint-rm", multiple=True, help="Remove a constraint")
@click.option("--rollback", is_flag=True, help="Roll back to the previous specification")
@click.option("--force", is_flag=True, help="Force an update even if no changes require it")
@shared_options
@click.argument("service")
def command(service: str, **o: Any) -> None:
    """Update a service."""
    from porter_cli.service.scale import update_spec

    if o["rollback"]:
        update_spec(service, None, {"rollback": "previous"})
    else:
        update_spec(service, lambda spec: changed(spec, o))
    click.echo(service)


def changed(original: dict[str, Any], o: dict[str, Any]) -> dict[str, Any]:
    import shlex

    from porter_cli.container import parsing

    spec = copy.deepcopy(original)
    template = spec["TaskTemplate"]
    container = template["ContainerSpec"]
    if o["image"]:
        container["Image"] = o["image"]
    if o["args"] is not None:
        container["Args"] = shlex.split(o["args"])
    env = [e for e in container.get("Env") or [] if e.partition("=")[0] not in o["env_rm"]]
    added = parsing.env_list(o["env_add"], ())
    keys = {item.partition("=")[0] for item in added}
    container["Env"] = [e for e in env if e.partition("=")[0] not in keys] + added
    labels = {k: v for k, v in (spec.get("Labels") or {}).items() if k not in o["label_rm"]}
    spec["Labels"] = {**labels, **parsing.key_values("--label", o["label_add"])}
    endpoint = spec.setdefault("EndpointSpec", {})
    targets = {int(t.partition("/")[0]) for t in o["publish_rm"] if t.partition("/")[0].isdigit()}
    new_ports = [publish(item) for item in o["publish_add"]]
    replaced = {p["TargetPort"] for p in new_ports} | targets
    ports = [p for p in endpoint.get("Ports") or [] if p["TargetPort"] not in replaced]
    endpoint["Ports"] = ports + new_ports
    placement = template.setdefault("Placement", {})
    constraints = [c for c in placement.get("Constraints") or [] if c not in o["constraint_rm"]]
    placement["Constraints"] = constraints + [
        c for c in o["constraint_add"] if c not in constraints
    ]
    if o["force"]:
        template["ForceUpdate"] = int(template.get("ForceUpdate", 0)) + 1
    return apply_shared(spec, o)
