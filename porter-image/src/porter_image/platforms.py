"""Which entry of an index serves a platform, by docker's rules (containerd's `platforms.Only`,
which `docker pull` and buildkit use):

- names are normalised first: `x86_64` is amd64 (its `v1` no variant), `aarch64` is arm64,
  `armhf` arm/v7, `armel` arm/v6; arm64's `v8` is its default (arm64 and arm64/v8 are one),
  arm without a variant is arm/v7;
- os, architecture and variant must then be equal, or be one the wanted platform also runs,
  tried in this order: an older variant of the same architecture (amd64/v3, v2, then amd64;
  arm/v7, v6, v5), then 32-bit code (amd64 runs 386; arm64 runs arm/v8 down to arm/v5);
- among entries of the same preference the index's order decides.

Entries without a platform are not chosen (docker would take one as a last resort; in an
index it is usually an artifact, not an image). Loading an image from a layout, copying,
and remote inspect all choose through `choose_platform`.
"""

from __future__ import annotations

from collections.abc import Iterable

from porter_specs.models import Descriptor, Platform

from porter_image.errors import ImageError

_ARCHITECTURES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "i386": "386"}
_ARM_ALIASES = {"armhf": "v7", "armel": "v6"}
_VARIANTS = {
    ("amd64", "v1"): "",
    ("arm64", "8"): "",
    ("arm64", "v8"): "",
    ("arm64", "v8.0"): "",
    ("arm", ""): "v7",
    ("arm", "5"): "v5",
    ("arm", "6"): "v6",
    ("arm", "7"): "v7",
    ("arm", "8"): "v8",
}


def normalized(platform: Platform) -> Platform:
    """`platform` with containerd's spelling of its os, architecture and variant (and
    nothing else)."""
    architecture = platform.architecture.lower()
    variant = platform.variant.lower()
    if architecture in _ARM_ALIASES:
        architecture, variant = "arm", _ARM_ALIASES[architecture]
    architecture = _ARCHITECTURES.get(architecture, architecture)
    variant = _VARIANTS.get((architecture, variant), variant)
    return Platform(platform.os.lower(), architecture, variant)


def accepted(wanted: Platform) -> list[Platform]:
    """The platforms whose images run where `wanted` does, most preferred first."""
    wanted = normalized(wanted)
    ladder = [wanted]
    level = _level(wanted.variant)
    if wanted.architecture == "amd64":
        ladder += [Platform(wanted.os, "amd64", f"v{n}") for n in range(level - 1, 0, -1)]
        ladder.append(Platform(wanted.os, "386"))
    elif wanted.architecture == "arm":
        ladder += [Platform(wanted.os, "arm", f"v{n}") for n in range(level - 1, 4, -1)]
    elif wanted.architecture == "arm64":
        ladder += accepted(Platform(wanted.os, "arm", "v8"))
    return [normalized(p) for p in ladder]


def preference(wanted: Platform, offered: Platform) -> int | None:
    """How early `offered` comes in `accepted(wanted)` (0: the same platform), None if not."""
    ladder = accepted(wanted)
    key = normalized(offered)
    return ladder.index(key) if key in ladder else None


def choose_platform(children: Iterable[Descriptor], wanted: Platform, what: str) -> Descriptor:
    """The entry of an index (its `children`) that serves `wanted`, or ImageError naming what
    the index offers."""
    offered = [child for child in children if child.platform is not None]
    ranked = []
    for position, child in enumerate(offered):
        assert child.platform is not None
        rank = preference(wanted, child.platform)
        if rank is not None:
            ranked.append((rank, position, child))
    if ranked:
        return min(ranked, key=lambda entry: entry[:2])[2]
    have = ", ".join(str(child.platform) for child in offered) or "none"
    raise ImageError(what, f"no manifest for platform {wanted} (the index offers: {have})")


def _level(variant: str) -> int:
    """The number of a `vN` variant (0 when it has none)."""
    digits = variant[1:] if variant.startswith("v") else variant
    return int(digits) if digits.isdigit() else 0
