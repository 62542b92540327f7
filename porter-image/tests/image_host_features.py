"""What this host offers porter-image's tests, probed: the one place a test asks before it
relies on a host feature (user extended attributes on the test's file system, a peer program,
Debian's busybox-static), so that where the feature is missing it skips and says why.

Every probe returns the reason the feature is missing, or None when it is there; `needs`
turns that into a skip marker, `skip_unless` skips at run time. (Imported by name: conftest
puts this folder on sys.path; the name differs from the other suites' probe modules.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

BUSYBOX = "/bin/busybox"


def missing_user_xattrs(directory: Path) -> str | None:
    """Why files in `directory` cannot carry user.* extended attributes, or None."""
    with tempfile.NamedTemporaryFile(dir=directory) as probe:
        try:
            os.setxattr(probe.name, "user.porter-probe", b"1")
        except OSError as err:
            return f"user xattrs unsupported on {directory}'s file system: {err.strerror}"
    return None


def missing_program(name: str, path: str | None = None) -> str | None:
    """Why the program `name` cannot be run (not on PATH), or None."""
    return None if shutil.which(name, path=path) else f"{name} is not installed"


def missing_busybox(path: str = BUSYBOX) -> str | None:
    """Why the demo image cannot be built: Debian's busybox-static is not at `path`."""
    return None if os.path.exists(path) else f"busybox-static is not installed ({path})"


def needs(reason: str | None) -> pytest.MarkDecorator:
    """A skip marker from a probe's answer: `@needs(missing_program("umoci"))`."""
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def skip_unless(reason: str | None) -> None:
    """Skips the running test when a probe gave a reason (for probes made at run time)."""
    if reason is not None:
        pytest.skip(reason)
