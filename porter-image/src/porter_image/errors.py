"""The errors of porter-image's layout, image and bundle code.

Each names the object it failed on (a layout path, a tag, a digest, a bundle) so that its
`str()` is the one line a user sees. The command line maps them to exit codes in one place
(`porter_image.cli.errors`). Layer errors live with the layer code (`porter_image.layer`).
"""

from __future__ import annotations

from porter_specs.errors import PorterError


class LayoutError(PorterError):
    """A path is not a usable OCI image layout, or the layout cannot be changed."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"layout {path}: {reason}")
        self.path = path
        self.reason = reason


class BlobNotFoundError(LayoutError):
    """A descriptor points at a blob the layout does not hold."""

    def __init__(self, path: object, digest: object) -> None:
        super().__init__(path, f"blob {digest} not found")
        self.digest = digest


class TagNotFoundError(LayoutError):
    """No entry of index.json carries this `org.opencontainers.image.ref.name`."""

    def __init__(self, path: object, tag: str) -> None:
        super().__init__(path, f"tag {tag!r} not found")
        self.tag = tag


class InvalidTagError(PorterError, ValueError):
    """A tag does not follow the grammar porter-image writes (distribution-spec tags)."""

    def __init__(self, tag: str) -> None:
        super().__init__(
            f"invalid tag {tag!r}: use up to 128 of [A-Za-z0-9._-], not starting with . or -"
        )
        self.tag = tag


class ImageRefError(PorterError, ValueError):
    """A command-line image name is not `LAYOUT:TAG`."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"image {text!r}: {reason}")
        self.text = text


class ImageError(PorterError):
    """An image cannot be loaded or changed (wrong kind of document, no matching platform)."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


class BundleError(PorterError):
    """An unpack target or a bundle to repack is not in the state the operation needs."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"bundle {path}: {reason}")
        self.path = path
        self.reason = reason


class ProblemsFoundError(PorterError):
    """fsck or validate found integrity problems (they are printed before this is raised)."""

    def __init__(self, what: object, count: int) -> None:
        plural = "problem" if count == 1 else "problems"
        super().__init__(f"{what}: {count} {plural} found")
        self.count = count


class RuntimeConfigError(ImageError):
    """An image config cannot become a runtime config.json (an unknown user, a bad Env entry)."""
