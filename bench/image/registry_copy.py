"""porter-image copy against skopeo copy, to and from a porter-registry on loopback.

    .venv/bin/python bench/image/registry_copy.py [--layer-mb 100] [--layers 50] [--reps 3]
                                                  [--porter-image PATH]

Four timings (medians of --reps runs, the two tools taking turns): push and pull of a one-layer
image of about --layer-mb (gzip of random bytes, so that neither tool recompresses it) and of
a --layers-layer image of small layers. Then the peak RSS (wait4) of porter-image pushing and
pulling one --big-mb layer. Before each push the destination repository is removed from the
registry's data (its blobs stay, unlinked), so every push uploads every blob.

--porter-image names the command to time (default: the dev venv's, an editable install whose
imports go through its finder; a wheel venv's measures what users run).
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PORTER_IMAGE, race, run

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "porter-registry" / "tests"))
from porter_image.layout import Layout  # noqa: E402
from porter_specs import media_types  # noqa: E402
from porter_specs.digest import Digester  # noqa: E402
from porter_specs.models import Descriptor  # noqa: E402
from registry_process import start_registry  # noqa: E402


def random_layer(layout: Layout, size: int, name: str) -> tuple[Descriptor, str]:
    """A gzip layer holding one file of `size` random bytes, streamed into the layout."""
    with tempfile.TemporaryFile(dir=layout.path) as plain:
        with tarfile.open(fileobj=plain, mode="w") as tar:
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, _RandomReader(size))
        plain.seek(0)
        diff = Digester()
        with (
            layout.blob_writer() as blob,
            gzip.GzipFile(fileobj=blob, mode="wb", compresslevel=1, mtime=0) as out,
        ):
            while chunk := plain.read(1 << 20):
                diff.update(chunk)
                out.write(chunk)
    descriptor = Descriptor(media_types.LAYER_TAR_GZIP, blob.digest(), blob.size)
    return descriptor, str(diff.digest())


class _RandomReader(io.RawIOBase):
    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        self.left -= n
        return os.urandom(n)


def make_image(path: Path, tag: str, sizes: list[int]) -> None:
    layout = Layout.create(path)
    layers = [random_layer(layout, size, f"file{i}") for i, size in enumerate(sizes)]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff for _, diff in layers]},
    }
    config_descriptor = layout.put_json(media_types.IMAGE_CONFIG, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_types.IMAGE_MANIFEST,
        "config": config_descriptor.to_json(),
        "layers": [d.to_json() for d, _ in layers],
    }
    layout.set_tag(tag, layout.put_json(media_types.IMAGE_MANIFEST, manifest))


def unlink_repository(data: Path, name: str):  # type: ignore[no-untyped-def]
    return lambda: shutil.rmtree(data / "repositories" / name, ignore_errors=True)


def clear(path: Path):  # type: ignore[no-untyped-def]
    return lambda: shutil.rmtree(path, ignore_errors=True)


def porter_copy(porter: Path, src: str, dst: str) -> list[str]:
    return [str(porter), "copy", "-q", src, dst]


def skopeo_copy(src: str, dst: str) -> list[str]:
    return ["skopeo", "copy", "-q", "--src-tls-verify=false", "--dest-tls-verify=false", src, dst]


def bench_image(
    porter: Path, work: Path, data: Path, host: str, name: str, reps: int
) -> list[tuple]:
    layout = work / name
    rows = []
    pushes = {
        "porter-image": (
            porter_copy(porter, f"oci:{layout}:v1", f"docker://{host}/bench/p-{name}:v1"),
            False,
            unlink_repository(data, f"bench/p-{name}"),
        ),
        "skopeo": (
            skopeo_copy(f"oci:{layout}:v1", f"docker://{host}/bench/s-{name}:v1"),
            False,
            unlink_repository(data, f"bench/s-{name}"),
        ),
    }
    times = race(pushes, reps)
    rows.append((f"push {name}", times["porter-image"], times["skopeo"]))
    out = work / "pulled"
    pulls = {
        "porter-image": (
            porter_copy(porter, f"docker://{host}/bench/p-{name}:v1", f"oci:{out}-p:v1"),
            False,
            clear(Path(f"{out}-p")),
        ),
        "skopeo": (
            skopeo_copy(f"docker://{host}/bench/s-{name}:v1", f"oci:{out}-s:v1"),
            False,
            clear(Path(f"{out}-s")),
        ),
    }
    times = race(pulls, reps)
    rows.append((f"pull {name}", times["porter-image"], times["skopeo"]))
    return rows


def bench_memory(
    porter: Path, work: Path, data: Path, host: str, big_mb: int
) -> list[tuple[str, float, int]]:
    layout = work / "big"
    make_image(layout, "v1", [big_mb << 20])
    rows = []
    unlink_repository(data, "bench/big")()
    seconds, rss = run(porter_copy(porter, f"oci:{layout}:v1", f"docker://{host}/bench/big:v1"))
    rows.append((f"porter-image push of a {big_mb} MB layer", seconds, rss))
    pulled = f"oci:{work / 'big-out'}:v1"
    seconds, rss = run(porter_copy(porter, f"docker://{host}/bench/big:v1", pulled))
    rows.append((f"porter-image pull of that {big_mb} MB layer", seconds, rss))
    shutil.rmtree(work / "big-out", ignore_errors=True)
    seconds, rss = run(skopeo_copy(f"oci:{layout}:v1", f"docker://{host}/bench/big-s:v1"))
    rows.append(("skopeo push of it (for reference)", seconds, rss))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layer-mb", type=int, default=100, help="size of the one-layer image")
    parser.add_argument("--layers", type=int, default=50, help="layers of the many-layer image")
    parser.add_argument("--small-kb", type=int, default=512, help="size of each of those layers")
    parser.add_argument("--big-mb", type=int, default=1024, help="memory run's layer (0: skip)")
    parser.add_argument("--reps", type=int, default=3, help="runs per command (median is kept)")
    parser.add_argument("--work", type=Path, default=None, help="scratch (default: /var/tmp)")
    parser.add_argument(
        "--porter-image", type=Path, default=PORTER_IMAGE, help="the porter-image command to time"
    )
    args = parser.parse_args()
    if shutil.which("skopeo") is None:
        raise SystemExit("skopeo is not installed (apt-get install skopeo)")
    work = Path(tempfile.mkdtemp(prefix="porter-bench-copy-", dir=args.work or "/var/tmp"))
    registry = start_registry(work / "registry")
    try:
        host = registry.url.split("://", 1)[1]
        one, many = f"one-{args.layer_mb}mb", f"{args.layers}-layers"
        make_image(work / one, "v1", [args.layer_mb << 20])
        make_image(work / many, "v1", [args.small_kb << 10] * args.layers)
        env = os.environ.get("DOCKER_CONFIG")
        os.environ["DOCKER_CONFIG"] = str(work / "docker")  # no stored credentials
        before = os.getloadavg()[0]
        porter = args.porter_image
        rows = bench_image(porter, work, registry.data, host, one, args.reps)
        rows += bench_image(porter, work, registry.data, host, many, args.reps)
        after = os.getloadavg()[0]
        print(f"median of {args.reps} runs; ratio = porter-image / skopeo; registry {host}")
        print(f"porter-image: {args.porter_image}")
        print(f"load average (1 min) {before:.2f} before, {after:.2f} after, {os.cpu_count()} CPUs")
        print(f"\n{'benchmark':28} {'porter s':>9} {'skopeo s':>9} {'ratio':>6}")
        for name, ours, theirs in rows:
            print(f"{name:28} {ours:9.2f} {theirs:9.2f} {ours / theirs:6.2f}")
        if args.big_mb:
            print(f"\n{'peak memory':44} {'seconds':>8} {'max RSS MB':>11}")
            for name, seconds, rss in bench_memory(porter, work, registry.data, host, args.big_mb):
                print(f"{name:44} {seconds:8.2f} {rss / 1024:11.1f}")
        if env is not None:
            os.environ["DOCKER_CONFIG"] = env
    finally:
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
