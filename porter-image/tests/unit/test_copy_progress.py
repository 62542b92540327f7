"""How copy shows its progress events: Docker's JSON messages, a line per step, bars."""

from __future__ import annotations

import io
import json

from porter_image.cli.copy_progress import BarProgress, JsonProgress, LineProgress
from porter_image.copy_events import BlobKind, ProgressEvent, Status
from porter_specs.digest import Digest

DIGEST = Digest("sha256", "ab" * 32)


def event(status: Status, current: int = 0, detail: str = "") -> ProgressEvent:
    return ProgressEvent(DIGEST.encoded[:12], DIGEST, BlobKind.LAYER, status, current, 2048, detail)


def test_json_progress_is_dockers_message_with_progress_detail() -> None:
    out = io.StringIO()
    JsonProgress(out)(event(Status.DOWNLOADING, 1024))
    assert json.loads(out.getvalue()) == {
        "id": "abababababab",
        "status": "Downloading",
        "progressDetail": {"current": 1024, "total": 2048},
    }


def test_json_progress_names_the_repository_a_blob_was_mounted_from() -> None:
    out = io.StringIO()
    JsonProgress(out)(event(Status.MOUNTED, detail="library/busybox"))
    assert json.loads(out.getvalue())["status"] == "Mounted from library/busybox"


def test_plain_progress_writes_a_line_per_step_not_per_chunk() -> None:
    out = io.StringIO()
    progress = LineProgress(out)
    for e in (event(Status.PULLING), event(Status.DOWNLOADING, 10), event(Status.DOWNLOADED)):
        progress(e)
    assert out.getvalue().splitlines() == [
        "layer abababababab (2.0 KiB): Pulling fs layer",
        "layer abababababab (2.0 KiB): Download complete",
    ]


def test_bars_redraw_one_line_per_blob_in_place() -> None:
    out = io.StringIO()
    progress = BarProgress(out)
    progress(event(Status.PULLING))
    progress(event(Status.DOWNLOADED, 2048))
    progress.finish()
    text = out.getvalue()
    assert "\x1b[1A" in text  # the cursor goes back up to redraw the blob's line
    assert text.rstrip("\n").endswith("abababababab: Download complete\x1b[K")
