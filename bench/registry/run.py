"""porter-registry against Debian's docker-registry (CNCF distribution), side by side in one run.

    .venv/bin/python bench/registry/run.py [--blob-mib 512] [--seconds 10] [--format json]
                                          [--only upload|download|requests ...]

For each registry, started here on a free loopback port with its data in a temporary folder
(dirty pages written back first, so that neither pays for the other's writeback):
  - upload: a BLOB_MIB MiB random blob, POST to open a session then PUT ?digest= with the body
    streamed by curl (`-T`), in MiB/s;
  - download: GET of that blob by curl into /dev/null, in MiB/s;
  - manifest GET and blob HEAD requests per second, wrk with 16 connections for SECONDS each
    (the HEAD of a zero-byte blob: wrk cannot take HEAD answers with a Content-Length);
  - peak RSS of the registry process (sampled every 20 ms) during each phase, and overall.
`--only` (repeatable) runs only the phases named (download includes the upload it needs).
Then the ratios porter-registry / docker-registry (above 1 means porter is faster; for RSS,
above 1 means porter uses more memory). Needs curl and wrk (scripts/setup.sh installs wrk).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
PORTER_REGISTRY = Path(sys.executable).parent / "porter-registry"
DOCKER_REGISTRY = Path("/usr/bin/docker-registry")
CONNECTIONS = 16
REPOSITORY = "bench/app"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
PHASES = ("upload", "download", "requests")


@dataclass
class Result:
    name: str
    upload_mib_s: float = 0.0
    download_mib_s: float = 0.0
    manifest_get_rps: float = 0.0
    blob_head_rps: float = 0.0
    peak_rss_mib: dict[str, float] = field(default_factory=dict)


class RssSampler:
    """The largest VmRSS of `pid` seen while active (VmHWM cannot be reset between phases)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self) -> int:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, self._read())
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, self._read())

    @property
    def mib(self) -> float:
        return self.peak_kib / 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: {process.args[0]} exited with {process.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/v2/", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise SystemExit(f"bench: {url} never answered /v2/")


@contextlib.contextmanager
def started(command: list[str], port: int, log: Path) -> Iterator[tuple[str, int]]:
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, process)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def porter(workdir: Path) -> contextlib.AbstractContextManager[tuple[str, int]]:
    port = free_port()
    command = [
        str(PORTER_REGISTRY),
        "serve",
        "--listen",
        f"127.0.0.1:{port}",
        "--data",
        str(workdir / "data"),
        "--log-level",
        "warning",
    ]
    return started(command, port, workdir / "porter-registry.log")


def distribution(workdir: Path) -> contextlib.AbstractContextManager[tuple[str, int]]:
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(
        f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {workdir / "data"}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: {secrets.token_hex(16)}
health:
  storagedriver:
    enabled: false
"""
    )
    return started([str(DOCKER_REGISTRY), "serve", str(config)], port, workdir / "registry.log")


def make_blob(path: Path, mib: int) -> str:
    """A random blob of `mib` MiB on disk; returns its digest."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(mib):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return f"sha256:{digest.hexdigest()}"


def curl_seconds(*args: str) -> float:
    """Run curl, return its total time; fail on any HTTP error."""
    result = subprocess.run(
        ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{time_total}", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench: curl {' '.join(args)}: {result.stderr.strip()}")
    return float(result.stdout)


def upload(url: str, blob: Path, digest: str) -> float:
    opened = requests.post(f"{url}/v2/{REPOSITORY}/blobs/uploads/", timeout=30)
    opened.raise_for_status()
    location = opened.headers["Location"]
    if location.startswith("/"):
        location = url + location
    separator = "&" if "?" in location else "?"
    return curl_seconds(
        "-T",
        str(blob),
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/octet-stream",
        f"{location}{separator}digest={digest}",
    )


def push_blob(url: str, data: bytes) -> str:
    """Upload `data` as a blob (POST, then PUT with the body); return its digest."""
    digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
    opened = requests.post(f"{url}/v2/{REPOSITORY}/blobs/uploads/", timeout=30)
    location = opened.headers["Location"]
    location = url + location if location.startswith("/") else location
    separator = "&" if "?" in location else "?"
    requests.put(f"{location}{separator}digest={digest}", data=data, timeout=30).raise_for_status()
    return digest


def push_small_image(url: str) -> tuple[str, str]:
    """A config blob and a manifest for the request-rate phases; returns their digests."""
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    config_digest = push_blob(url, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [],
        }
    ).encode()
    requests.put(
        f"{url}/v2/{REPOSITORY}/manifests/latest",
        data=manifest,
        timeout=30,
        headers={"Content-Type": OCI_MANIFEST},
    ).raise_for_status()
    return config_digest, f"sha256:{hashlib.sha256(manifest).hexdigest()}"


def wrk_rps(url: str, seconds: int, script: Path) -> float:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"Requests/sec:\s*([\d.]+)", result.stdout)
    if result.returncode != 0 or not match:
        raise SystemExit(f"bench: wrk {url}: {result.stdout}{result.stderr}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if errors:
        raise SystemExit(f"bench: wrk {url}: {errors.group(1)} error responses")
    return float(match.group(1))


def wrk_script(workdir: Path, method: str, headers: dict[str, str]) -> Path:
    path = workdir / f"{method.lower()}.lua"
    lines = [f'wrk.method = "{method}"'] + [
        f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(name: str, start: Callable, workdir: Path, blob: Path, digest: str, args) -> Result:
    result = Result(name)
    mib = blob.stat().st_size / (1 << 20)
    phases = set(args.only or PHASES)
    with start(workdir) as (url, pid):
        if phases & {"upload", "download"}:
            with RssSampler(pid) as rss:
                result.upload_mib_s = mib / upload(url, blob, digest)
            result.peak_rss_mib["upload"] = rss.mib
        if "download" in phases:
            with RssSampler(pid) as rss:
                seconds = curl_seconds(f"{url}/v2/{REPOSITORY}/blobs/{digest}")
                result.download_mib_s = mib / seconds
            result.peak_rss_mib["download"] = rss.mib
        if "requests" in phases:
            rates = request_rates(url, pid, workdir, args.seconds)
            result.manifest_get_rps, result.blob_head_rps, result.peak_rss_mib["requests"] = rates
    result.peak_rss_mib["overall"] = max(result.peak_rss_mib.values())
    return result


def request_rates(url: str, pid: int, workdir: Path, seconds: int) -> tuple[float, float, float]:
    """Manifest GET and blob HEAD requests per second, and the peak RSS (MiB) meanwhile."""
    push_small_image(url)
    # wrk waits for a body after a HEAD answer that has a Content-Length, so the HEAD phase
    # asks for a zero-byte blob: the server does the same lookup whatever the size.
    empty_digest = push_blob(url, b"")
    get = wrk_script(workdir, "GET", {"Accept": OCI_MANIFEST})
    head = wrk_script(workdir, "HEAD", {})
    with RssSampler(pid) as rss:
        manifest_rps = wrk_rps(f"{url}/v2/{REPOSITORY}/manifests/latest", seconds, get)
        head_rps = wrk_rps(f"{url}/v2/{REPOSITORY}/blobs/{empty_digest}", seconds, head)
    return manifest_rps, head_rps, rss.mib


def report(porter_result: Result, peer: Result) -> str:
    measured = porter_result.peak_rss_mib
    rows = [
        ("blob upload (MiB/s)", porter_result.upload_mib_s, peer.upload_mib_s),
        ("blob download (MiB/s)", porter_result.download_mib_s, peer.download_mib_s),
        (
            f"manifest GET (req/s, {CONNECTIONS} conn)",
            porter_result.manifest_get_rps,
            peer.manifest_get_rps,
        ),
        (f"blob HEAD (req/s, {CONNECTIONS} conn)", porter_result.blob_head_rps, peer.blob_head_rps),
    ] + [
        (f"peak RSS {phase} (MiB)", porter_result.peak_rss_mib[phase], peer.peak_rss_mib[phase])
        for phase in ("upload", "download", "requests", "overall")
        if phase in measured
    ]
    lines = [f"{'':38} {'porter-registry':>16} {'docker-registry':>16} {'ratio':>7}"]
    for label, ours, theirs in rows:
        if not ours and not theirs:
            continue  # a phase left out with --only
        ratio = ours / theirs if theirs else float("nan")
        lines.append(f"{label:38} {ours:16.1f} {theirs:16.1f} {ratio:7.2f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blob-mib", type=int, default=512, help="Blob size in MiB.")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per phase.")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument(
        "--only", action="append", choices=PHASES, help="Run only this phase (repeatable)."
    )
    args = parser.parse_args()
    for tool in ("curl", "wrk"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: {tool} is not installed (run scripts/setup.sh)")
    if not DOCKER_REGISTRY.exists():
        raise SystemExit(f"bench: {DOCKER_REGISTRY} is not installed (run scripts/setup.sh)")
    with tempfile.TemporaryDirectory(prefix="bench-registry-") as tmp:
        root = Path(tmp)
        blob = root / "blob"
        digest = make_blob(blob, args.blob_mib)
        results = []
        for name, start in (("porter-registry", porter), ("docker-registry", distribution)):
            # Neither registry pays for the other's (or the blob file's) pending writeback.
            os.sync()
            (root / name).mkdir()
            results.append(measure(name, start, root / name, blob, digest, args))
    if args.format == "json":
        print(json.dumps([asdict(r) for r in results], indent=2))
    else:
        print(report(*results))


if __name__ == "__main__":
    main()
