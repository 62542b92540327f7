"""ADD's URL sources: each downloaded once per step into the build's workspace, and checked
against `--checksum` when one is given."""

from __future__ import annotations

import hashlib
import posixpath
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from porter_image.build.steps import StageRunner

CHUNK = 1 << 20


@dataclass(frozen=True)
class Download:
    url: str
    path: Path
    digest: str  # sha256:... of the bytes

    @property
    def name(self) -> str:
        """The file name ADD gives it in a destination folder: the URL's last segment."""
        return posixpath.basename(self.url.split("?")[0].rstrip("/")) or "index.html"


def fetch_urls(runner: StageRunner, urls: list[str], checksum: str) -> list[Download]:
    if not urls:
        return []
    if checksum and len(urls) > 1:
        raise runner.fail("--checksum takes a single URL source")
    import requests

    fetched: list[Download] = []
    for url in urls:
        path = runner.builder.workspace / f"download-{uuid.uuid4().hex[:12]}"
        digest = hashlib.sha256()
        try:
            with requests.get(url, stream=True, timeout=60) as response:
                response.raise_for_status()
                with open(path, "wb") as out:
                    for chunk in response.iter_content(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        except (requests.RequestException, OSError) as exc:
            raise runner.fail(f"cannot download {url}: {exc}") from exc
        got = f"sha256:{digest.hexdigest()}"
        if checksum and checksum != got:
            raise runner.fail(f"{url}: checksum is {got}, not {checksum}")
        fetched.append(Download(url, path, got))
    return fetched
