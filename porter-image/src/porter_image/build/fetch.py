"""ADD's URL sources: each downloaded once per step into the build's workspace, and checked
against `--checksum` when one is given."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from porter_image.build.steps import StageRunner

CHUNK = 1 << 20


def fetch_urls(runner: StageRunner, urls: list[str], checksum: str) -> list[tuple[str, Path]]:
    if not urls:
        return []
    if checksum and len(urls) > 1:
        raise runner.fail("--checksum takes a single URL source")
    import requests

    fetched = []
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
        if checksum and checksum != f"sha256:{digest.hexdigest()}":
            raise runner.fail(f"{url}: checksum is sha256:{digest.hexdigest()}, not {checksum}")
        fetched.append((url, path))
    return fetched
