"""The Dockerfile: parsing it into typed instructions, expanding words, and .dockerignore."""

from porter_image.dockerfile.errors import (
    DockerfileSyntaxError,
    IgnorePatternError,
    SubstitutionError,
)
from porter_image.dockerfile.parse import parse_dockerfile

__all__ = [
    "DockerfileSyntaxError",
    "IgnorePatternError",
    "SubstitutionError",
    "parse_dockerfile",
]
