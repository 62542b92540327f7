"""The image a stage is building, step by step: its config, layers, cache key and ARGs."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from porter_specs.models import Descriptor, Platform

from porter_image.build.cache import CachedState
from porter_image.configure import merge_env

if TYPE_CHECKING:
    from porter_image.layer.options import LayerResult

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_SHELL = ("/bin/sh", "-c")


def scratch_config(platform: Platform) -> dict[str, Any]:
    """The config a `FROM scratch` stage starts from (BuildKit gives it the default PATH)."""
    document: dict[str, Any] = {
        "architecture": platform.architecture,
        "os": platform.os,
        "config": {"Env": [DEFAULT_PATH]},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
    }
    if platform.variant:
        document["variant"] = platform.variant
    return document


@dataclass
class StageState:
    config: dict[str, Any]
    layers: list[Descriptor]
    key: str
    created: str
    args: dict[str, str] = field(default_factory=dict)
    cmd_set: bool = False

    @property
    def runtime(self) -> dict[str, Any]:
        runtime: dict[str, Any] = self.config.setdefault("config", {})
        return runtime

    @property
    def env(self) -> list[str]:
        return list(self.runtime.get("Env") or [])

    @property
    def diff_ids(self) -> list[str]:
        return list(self.config.get("rootfs", {}).get("diff_ids", []))

    @property
    def shell(self) -> tuple[str, ...]:
        return tuple(self.runtime.get("Shell") or DEFAULT_SHELL)

    def scope(self) -> dict[str, str]:
        """The variables words expand with: the ARGs in scope, then ENV over them."""
        values = dict(self.args)
        for entry in self.env:
            name, _, value = entry.partition("=")
            values[name] = value
        return values

    def set_env(self, pairs: list[tuple[str, str]]) -> None:
        self.runtime["Env"] = merge_env(self.env, tuple(f"{k}={v}" for k, v in pairs))

    def record(self, key: str, created_by: str, layer: LayerResult | None = None) -> None:
        """One more history entry (and layer), and the key the state now has."""
        entry: dict[str, Any] = {"created": self.created, "created_by": created_by}
        if layer is None:
            entry["empty_layer"] = True
        else:
            self.layers.append(Descriptor(layer.media_type, layer.digest, layer.size))
            rootfs = self.config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
            rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), str(layer.diff_id)]
        self.config["history"] = [*(self.config.get("history") or []), entry]
        self.key = key

    def cached(self) -> CachedState:
        return CachedState(copy.deepcopy(self.config), tuple(self.layers))

    def restore(self, key: str, cached: CachedState) -> None:
        self.config = copy.deepcopy(cached.config)
        self.layers = list(cached.layers)
        self.key = key

    def fork(self) -> StageState:
        """A new stage's start from this one (`FROM earlier-stage`): ARGs do not carry over."""
        return StageState(copy.deepcopy(self.config), list(self.layers), self.key, self.created)
