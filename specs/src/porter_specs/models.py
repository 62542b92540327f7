"""Typed models of the image-spec's documents, with to/from JSON.

`from_json` takes an already-validated mapping (see `porter_specs.validate`); `to_json`
gives a mapping whose canonical encoding (`canonical.canonical_json`) is stable. Optional
fields that are unset are omitted, as the spec asks.
"""

from __future__ import annotations

import platform as _host
from dataclasses import dataclass, field, replace
from typing import Any

from porter_specs import media_types
from porter_specs.canonical import canonical_json
from porter_specs.digest import Digest, from_bytes
from porter_specs.errors import DocumentError

Json = dict[str, Any]

_GO_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def _drop_empty(document: Json) -> Json:
    return {k: v for k, v in document.items() if v not in (None, {}, [], "")}


def _require(document: Json, key: str, kind: str) -> Any:
    try:
        return document[key]
    except (KeyError, TypeError):
        raise DocumentError(f"{kind}: missing required field {key!r}") from None


@dataclass(frozen=True)
class Platform:
    """The platform an image runs on (`os`/`architecture`, optional variant and features)."""

    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    @classmethod
    def host(cls) -> Platform:
        machine = _host.machine()
        variant = "v8" if machine == "aarch64" else ""
        return cls("linux", _GO_ARCH.get(machine, machine), variant)

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse `os/arch[/variant]` as docker's and skopeo's `--platform` take it."""
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise DocumentError(f"invalid platform {text!r}: expected os/arch[/variant]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def from_json(cls, document: Json) -> Platform:
        return cls(
            os=_require(document, "os", "platform"),
            architecture=_require(document, "architecture", "platform"),
            variant=document.get("variant") or "",
            os_version=document.get("os.version") or "",
            os_features=tuple(document.get("os.features") or ()),
        )

    def to_json(self) -> Json:
        return _drop_empty(
            {
                "architecture": self.architecture,
                "os": self.os,
                "os.version": self.os_version,
                "os.features": list(self.os_features),
                "variant": self.variant,
            }
        )


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a blob is, its digest and size, and where to find it."""

    media_type: str
    digest: Digest
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict)
    data: str = ""
    platform: Platform | None = None
    artifact_type: str = ""

    @classmethod
    def of(cls, media_type: str, content: bytes, **extra: Any) -> Descriptor:
        """The descriptor of in-memory content."""
        return cls(media_type, from_bytes(content), len(content), **extra)

    @classmethod
    def from_json(cls, document: Json) -> Descriptor:
        platform = document.get("platform")
        return cls(
            media_type=_require(document, "mediaType", "descriptor"),
            digest=Digest.parse(_require(document, "digest", "descriptor")),
            size=_require(document, "size", "descriptor"),
            urls=tuple(document.get("urls") or ()),
            annotations=dict(document.get("annotations") or {}),
            data=document.get("data") or "",
            platform=Platform.from_json(platform) if platform else None,
            artifact_type=document.get("artifactType") or "",
        )

    def to_json(self) -> Json:
        return _drop_empty(
            {
                "mediaType": self.media_type,
                "digest": str(self.digest),
                "size": self.size,
                "urls": list(self.urls),
                "annotations": dict(self.annotations),
                "data": self.data,
                "platform": self.platform.to_json() if self.platform else None,
                "artifactType": self.artifact_type,
            }
        )

    def with_annotations(self, **annotations: str) -> Descriptor:
        return replace(self, annotations={**self.annotations, **annotations})


def _descriptors(document: Json, key: str) -> tuple[Descriptor, ...]:
    return tuple(Descriptor.from_json(d) for d in document.get(key) or ())


@dataclass(frozen=True)
class Manifest:
    """An image manifest: a config and an ordered list of layers (or an artifact)."""

    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str = ""
    media_type: str = media_types.IMAGE_MANIFEST

    @classmethod
    def from_json(cls, document: Json) -> Manifest:
        subject = document.get("subject")
        return cls(
            config=Descriptor.from_json(_require(document, "config", "manifest")),
            layers=_descriptors(document, "layers"),
            annotations=dict(document.get("annotations") or {}),
            subject=Descriptor.from_json(subject) if subject else None,
            artifact_type=document.get("artifactType") or "",
            media_type=document.get("mediaType") or media_types.IMAGE_MANIFEST,
        )

    def to_json(self) -> Json:
        document = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "artifactType": self.artifact_type,
            "config": self.config.to_json(),
            "layers": [layer.to_json() for layer in self.layers],
            "subject": self.subject.to_json() if self.subject else None,
            "annotations": dict(self.annotations),
        }
        layers = document["layers"]
        document = _drop_empty(document)
        document["layers"] = layers  # required even when empty
        return document


@dataclass(frozen=True)
class Index:
    """An image index: manifests for several platforms (also the layout's `index.json`)."""

    manifests: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict)
    subject: Descriptor | None = None
    artifact_type: str = ""
    media_type: str = media_types.IMAGE_INDEX

    @classmethod
    def from_json(cls, document: Json) -> Index:
        subject = document.get("subject")
        return cls(
            manifests=_descriptors(document, "manifests"),
            annotations=dict(document.get("annotations") or {}),
            subject=Descriptor.from_json(subject) if subject else None,
            artifact_type=document.get("artifactType") or "",
            media_type=document.get("mediaType") or media_types.IMAGE_INDEX,
        )

    def to_json(self) -> Json:
        manifests = [m.to_json() for m in self.manifests]
        document = _drop_empty(
            {
                "schemaVersion": 2,
                "mediaType": self.media_type,
                "artifactType": self.artifact_type,
                "subject": self.subject.to_json() if self.subject else None,
                "annotations": dict(self.annotations),
            }
        )
        document["manifests"] = manifests
        return document


@dataclass(frozen=True)
class History:
    """One entry of an image's history: how a layer (or an empty step) came to be."""

    created: str = ""
    created_by: str = ""
    author: str = ""
    comment: str = ""
    empty_layer: bool = False

    @classmethod
    def from_json(cls, document: Json) -> History:
        return cls(
            created=document.get("created") or "",
            created_by=document.get("created_by") or "",
            author=document.get("author") or "",
            comment=document.get("comment") or "",
            empty_layer=bool(document.get("empty_layer", False)),
        )

    def to_json(self) -> Json:
        return _drop_empty(
            {
                "created": self.created,
                "created_by": self.created_by,
                "author": self.author,
                "comment": self.comment,
                "empty_layer": self.empty_layer or None,
            }
        )


@dataclass(frozen=True)
class ContainerConfig:
    """The execution parameters of an image config (`config` in the image-spec)."""

    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None
    volumes: tuple[str, ...] = ()
    working_dir: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    stop_signal: str = ""

    @classmethod
    def from_json(cls, document: Json | None) -> ContainerConfig:
        document = document or {}
        entrypoint = document.get("Entrypoint")
        cmd = document.get("Cmd")
        return cls(
            user=document.get("User") or "",
            exposed_ports=tuple(sorted(document.get("ExposedPorts") or {})),
            env=tuple(document.get("Env") or ()),
            entrypoint=tuple(entrypoint) if entrypoint is not None else None,
            cmd=tuple(cmd) if cmd is not None else None,
            volumes=tuple(sorted(document.get("Volumes") or {})),
            working_dir=document.get("WorkingDir") or "",
            labels=dict(document.get("Labels") or {}),
            stop_signal=document.get("StopSignal") or "",
        )

    def to_json(self) -> Json:
        return _drop_empty(
            {
                "User": self.user,
                "ExposedPorts": {port: {} for port in self.exposed_ports} or None,
                "Env": list(self.env),
                "Entrypoint": list(self.entrypoint) if self.entrypoint is not None else None,
                "Cmd": list(self.cmd) if self.cmd is not None else None,
                "Volumes": {volume: {} for volume in self.volumes} or None,
                "WorkingDir": self.working_dir,
                "Labels": dict(self.labels),
                "StopSignal": self.stop_signal,
            }
        )


@dataclass(frozen=True)
class ImageConfig:
    """An image config: platform, execution parameters, the layers' diff_ids and history."""

    architecture: str
    os: str
    diff_ids: tuple[Digest, ...] = ()
    config: ContainerConfig = field(default_factory=ContainerConfig)
    history: tuple[History, ...] = ()
    created: str = ""
    author: str = ""
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, document: Json) -> ImageConfig:
        rootfs = _require(document, "rootfs", "image config")
        return cls(
            architecture=_require(document, "architecture", "image config"),
            os=_require(document, "os", "image config"),
            diff_ids=tuple(Digest.parse(d) for d in rootfs.get("diff_ids") or ()),
            config=ContainerConfig.from_json(document.get("config")),
            history=tuple(History.from_json(h) for h in document.get("history") or ()),
            created=document.get("created") or "",
            author=document.get("author") or "",
            variant=document.get("variant") or "",
            os_version=document.get("os.version") or "",
            os_features=tuple(document.get("os.features") or ()),
        )

    def to_json(self) -> Json:
        document = _drop_empty(
            {
                "created": self.created,
                "author": self.author,
                "architecture": self.architecture,
                "os": self.os,
                "os.version": self.os_version,
                "os.features": list(self.os_features),
                "variant": self.variant,
                "config": self.config.to_json(),
                "history": [h.to_json() for h in self.history],
            }
        )
        document["rootfs"] = {"type": "layers", "diff_ids": [str(d) for d in self.diff_ids]}
        return document

    @property
    def platform(self) -> Platform:
        return Platform(self.os, self.architecture, self.variant, self.os_version, self.os_features)


def encode(model: Platform | Descriptor | Manifest | Index | ImageConfig) -> bytes:
    """The canonical bytes of a model, ready to be stored as a blob."""
    return canonical_json(model.to_json())
