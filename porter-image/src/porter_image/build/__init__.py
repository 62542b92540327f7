"""The Dockerfile builder: stages, layers from overlay upper folders, a cache with the layout."""

from porter_image.build.builder import Builder
from porter_image.build.context import BuildContext
from porter_image.build.errors import BuildError, RunFailedError
from porter_image.build.options import BuildOptions

__all__ = ["BuildContext", "BuildError", "BuildOptions", "Builder", "RunFailedError"]
