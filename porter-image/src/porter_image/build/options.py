"""What a build is told: the command line's options as one value."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from porter_specs.models import Platform

from porter_image.build.secret_sources import SecretSource


def default_runtime() -> str:
    """porter-runtime from the same installation as this Python, else the one on PATH."""
    beside = Path(sys.executable).parent / "porter-runtime"
    if beside.is_file():
        return str(beside)
    import shutil

    return shutil.which("porter-runtime") or "porter-runtime"


def source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else None


@dataclass(frozen=True)
class BuildOptions:
    tags: tuple[str, ...]
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    pull: bool = False
    platform: Platform | None = None
    network: str = "host"
    runtime: str = field(default_factory=default_runtime)
    labels: dict[str, str] = field(default_factory=dict)
    insecure_registries: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()  # registry references (HOST/REPO:TAG) of cache artifacts
    cache_to: tuple[str, ...] = ()
    source_date_epoch: int | None = field(default_factory=source_date_epoch)
    compression: str = "gzip"  # of new layers: gzip, zstd or "" (none)
    report: Callable[[str], None] = lambda line: None
    output: int | None = None  # the descriptor RUN steps write to (None: this process's stderr)
    secrets: dict[str, SecretSource] = field(default_factory=dict)  # RUN --mount=type=secret
    ssh: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id: agent socket or keys
