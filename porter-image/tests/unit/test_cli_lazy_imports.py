"""A command imports only what it uses: other subcommands and zstd stay unloaded."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import porter_image.layer
import porter_image.layout
from image_test_support import make_image, tar_bytes
from porter_image.layout import Layout
from porter_specs import media_types

PROBE = """
import sys
from porter_image.cli.main import cli
try:
    cli(sys.argv[1:], prog_name="porter-image")
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)))
"""


def loaded_modules(*args: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split("\n")[-2].split())


def test_list_loads_neither_other_commands_nor_layers_nor_jsonschema(tmp_path: Path) -> None:
    loaded = loaded_modules("list", str(tmp_path / "missing"))
    assert "porter_image.cli.list_" in loaded
    assert not {m for m in loaded if m.startswith("porter_image.cli.") and "list_" not in m} - {
        "porter_image.cli.errors",
        "porter_image.cli.main",
        "porter_image.cli.options",
    }
    assert not {"porter_image.layer.apply", "zstandard", "jsonschema"} & loaded


def test_unpack_of_a_gzip_image_does_not_load_zstandard(tmp_path: Path, layout: Layout) -> None:
    blob = gzip.compress(tar_bytes({"hello.txt": b"hello\n"}), mtime=0)
    make_image(layout, "gz", blob=blob, media_type=media_types.LAYER_TAR_GZIP)
    loaded = loaded_modules("unpack", f"{layout.path}:gz", str(tmp_path / "bundle"))
    assert (tmp_path / "bundle" / "rootfs").is_dir()
    assert "porter_image.layer.apply" in loaded and "zstandard" not in loaded


def test_every_public_name_of_the_lazy_packages_resolves() -> None:
    for package in (porter_image.layer, porter_image.layout):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
