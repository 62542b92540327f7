"""copy pays at start-up only for what a registry copy needs: not the schema checks, layer
code (codecs included: only --dest-compress needs them) or zstandard that the archive
transports and unpack bring in, nor requests (the registry client speaks HTTP through the
standard library), nor concurrent.futures and the logging it loads (layers move on the
threads of porter_image.bounded_threads)."""

from __future__ import annotations

import subprocess
import sys


def copy_command_modules() -> set[str]:
    probe = "import sys, porter_image.cli.copy; print(' '.join(sorted(sys.modules)))"
    return set(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.split()
    )


def test_the_copy_command_does_not_import_requests() -> None:
    loaded = copy_command_modules()
    assert "porter_image.distribution.client" in loaded
    assert not {"requests", "urllib3", "charset_normalizer", "idna"} & loaded


def test_the_copy_command_does_not_import_concurrent_futures_or_logging() -> None:
    loaded = copy_command_modules()
    assert "porter_image.bounded_threads" in loaded
    assert not {"concurrent.futures", "logging"} & loaded


def test_the_copy_command_does_not_import_schemas_layers_or_archives() -> None:
    loaded = copy_command_modules()
    assert "porter_image.copy" in loaded
    unwanted = {
        "jsonschema",
        "zstandard",
        "porter_image.image",
        "porter_image.layer.apply",
        "porter_image.layer.compression",
        "porter_image.archives.docker_archive",
    }
    assert not unwanted & loaded
