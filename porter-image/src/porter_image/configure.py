"""Edits of an image's execution config (env, entrypoint, cmd, ...), like `umoci config`.

Edits work on the raw config JSON so fields porter-image does not model survive. Each edit
adds an `empty_layer` history entry saying what changed, and the result is committed as a
new config and manifest under the target tag; the source image is never modified.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from porter_specs.models import Descriptor, Platform

from porter_image.image import commit_image, load_image, timestamp
from porter_image.layout import Layout, check_tag


@dataclass(frozen=True)
class ConfigEdit:
    """What to change. None/empty means "leave as is"; the clear_* flags run first."""

    env: tuple[str, ...] = ()  # KEY=VALUE, replacing an existing KEY
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    user: str | None = None
    workdir: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str | None = None
    author: str | None = None
    clear: frozenset[str] = frozenset()  # env, entrypoint, cmd, labels, exposed-ports, volumes

    def describe(self) -> str:
        """A short history line of the edit, e.g. `porter-image config --env PATH=... --cmd`."""
        parts = [f"--clear-{name}" for name in sorted(self.clear)]
        parts += [f"--env {e}" for e in self.env]
        for name, argv in (("entrypoint", self.entrypoint), ("cmd", self.cmd)):
            if argv is not None:
                parts.append(f"--{name} {list(argv)}")
        for name, value in (
            ("user", self.user),
            ("workdir", self.workdir),
            ("stop-signal", self.stop_signal),
        ):
            if value is not None:
                parts.append(f"--{name} {value}")
        parts += [f"--label {k}={v}" for k, v in sorted(self.labels.items())]
        parts += [f"--exposed-port {p}" for p in self.exposed_ports]
        parts += [f"--volume {v}" for v in self.volumes]
        return " ".join(["porter-image config", *parts])


CLEARABLE = {
    "env": "Env",
    "entrypoint": "Entrypoint",
    "cmd": "Cmd",
    "labels": "Labels",
    "exposed-ports": "ExposedPorts",
    "volumes": "Volumes",
}


def apply_edit(config_json: dict[str, Any], edit: ConfigEdit, created: str) -> dict[str, Any]:
    """A new config document: `config_json` with `edit` applied and a history entry added."""
    document = copy.deepcopy(config_json)
    runtime = document.setdefault("config", {})
    for name in edit.clear:
        runtime.pop(CLEARABLE[name], None)
    if edit.env:
        runtime["Env"] = merge_env(runtime.get("Env") or [], edit.env)
    for key, argv in (("Entrypoint", edit.entrypoint), ("Cmd", edit.cmd)):
        if argv is not None:
            runtime[key] = list(argv)
    for key, value in (
        ("User", edit.user),
        ("WorkingDir", edit.workdir),
        ("StopSignal", edit.stop_signal),
    ):
        if value is not None:
            runtime[key] = value
    if edit.labels:
        runtime["Labels"] = {**(runtime.get("Labels") or {}), **edit.labels}
    for key, values in (("ExposedPorts", edit.exposed_ports), ("Volumes", edit.volumes)):
        if values:
            runtime[key] = {**(runtime.get(key) or {}), **{v: {} for v in values}}
    if edit.author is not None:
        document["author"] = edit.author
    document["created"] = created
    entry = {"created": created, "created_by": edit.describe(), "empty_layer": True}
    document["history"] = [*(document.get("history") or []), entry]
    return document


def merge_env(current: list[str], updates: tuple[str, ...]) -> list[str]:
    """Set KEY=VALUE entries, replacing an existing KEY in place and appending new ones."""
    result = list(current)
    for item in updates:
        key = item.split("=", 1)[0]
        for i, existing in enumerate(result):
            if existing.split("=", 1)[0] == key:
                result[i] = item
                break
        else:
            result.append(item)
    return result


def configure_image(
    layout: Layout,
    source_tag: str,
    edit: ConfigEdit,
    target_tag: str | None = None,
    platform: Platform | None = None,
    created: str | None = None,
) -> Descriptor:
    """Apply `edit` to the image `source_tag` names and tag the result (default: same tag)."""
    target = check_tag(target_tag or source_tag)
    with layout.writing():
        image = load_image(layout, source_tag, platform)
        document = apply_edit(image.config_json, edit, created or timestamp())
        return commit_image(layout, target, document, image.manifest.layers, base=image)
