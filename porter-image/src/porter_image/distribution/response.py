"""One answer of a registry, its body read once: in chunks (a blob, streamed), or whole up
to a bound (a token, a tag page, an error: `ResponseTooLargeError` past it). A body that ends
before its Content-Length, or a broken chunked body, is `IncompleteBodyError`, never a short
blob. The connection goes back to the session's pool only when the body was read to its end.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable
from typing import Any

# A redirect's or a discarded answer's body is read (to keep its connection) up to this size.
DISCARD_LIMIT = 65536
# A body read whole (a token, a tag list page, an error) is refused past this size.
MAX_CONTENT = 16 << 20
CONTENT_CHUNK = 1 << 20

# What reading a body can fail with: OSError (timeouts, resets), HTTPException (IncompleteRead).
READ_ERRORS = (OSError, http.client.HTTPException)


class IncompleteBodyError(ConnectionError):
    """A response body that ended before its Content-Length (or a broken chunked body)."""


class ResponseTooLargeError(http.client.HTTPException):
    """A body read whole that is larger than the session takes."""


def count_of(text: str | None) -> int | None:
    """A header's count (a Content-Length, the end of a Range), None unless it is one: ASCII
    digits only, 18 at most (int() would take other digits, and refuse 4300 or more, with a
    ValueError where a registry's answer deserves an error line)."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 18:
        return None
    return int(text)


def parse_links(header: str) -> dict[str, dict[str, str]]:
    """A `Link` header's entries by their `rel` (as requests' `Response.links`)."""
    links: dict[str, dict[str, str]] = {}
    for part in re.split(r",\s*(?=<)", header.strip()):
        target, _, rest = part.partition(";")
        if not target.strip():
            continue
        link = {"url": target.strip(" <>'\"")}
        for param in rest.split(";"):
            key, _, value = param.partition("=")
            if key.strip():
                link[key.strip().lower()] = value.strip(" '\"")
        links[link.get("rel") or link["url"]] = link
    return links


class Response:
    """One answer: status, headers, and a body read once, in chunks or whole."""

    def __init__(
        self, raw: http.client.HTTPResponse, url: str, release: Callable[[bool], None]
    ) -> None:
        self.raw = raw
        self.url = url
        self.status_code = raw.status
        self.reason = raw.reason
        self.headers = raw.msg
        self.max_content = MAX_CONTENT
        self._release: Callable[[bool], None] | None = release
        self._content: bytes | None = None

    def read(self, n: int = -1) -> bytes:
        """Up to `n` bytes of the body (all of it, up to `max_content`, when n < 0); b"" at
        its end.

        IncompleteBodyError when the body ends short of its Content-Length,
        ResponseTooLargeError when n < 0 and the body is larger than `max_content`."""
        if n < 0:
            return self._read_whole()
        if self._release is None:
            return b""
        remaining = self.raw.length
        try:
            data = self.raw.read(n)
        except http.client.IncompleteRead as exc:
            self.close()
            raise IncompleteBodyError(f"body cut short ({len(exc.partial)} bytes)") from exc
        except (http.client.HTTPException, ValueError) as exc:
            self.close()
            raise IncompleteBodyError(f"body unreadable ({type(exc).__name__})") from exc
        except OSError:
            self.close()
            raise
        if not data and n != 0 and remaining:
            self.close()
            raise IncompleteBodyError(f"body cut short ({remaining} bytes missing)")
        if self.raw.isclosed():
            self._finish(reuse=True)
        return data

    def _read_whole(self) -> bytes:
        limit = self.max_content
        length = self.raw.length
        if length is not None and length > limit:
            self.close()
            raise ResponseTooLargeError(f"answer larger than {limit} bytes ({length})")
        parts: list[bytes] = []
        size = 0
        while data := self.read(min(CONTENT_CHUNK, limit + 1 - size)):
            parts.append(data)
            size += len(data)
            if size > limit:
                self.close()
                raise ResponseTooLargeError(f"answer larger than {limit} bytes")
        return b"".join(parts)

    @property
    def content(self) -> bytes:
        """The whole body (read once, kept)."""
        if self._content is None:
            self._content = self.read()
        return self._content

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def links(self) -> dict[str, dict[str, str]]:
        return parse_links(self.headers.get("Link", ""))

    def body_prefix(self, limit: int) -> bytes:
        """Up to `limit` bytes of the body for an error message; b"" when it cannot be read."""
        if self._content is not None:
            return self._content[:limit]
        try:
            return self.read(limit)
        except READ_ERRORS:
            return b""

    def discard(self) -> None:
        """Read a small rest of the body, so that the connection serves the next request."""
        try:
            if self.raw.length is None or self.raw.length <= DISCARD_LIMIT:
                self.read(DISCARD_LIMIT)
        except READ_ERRORS:
            pass
        self.close()

    def close(self) -> None:
        """Give the connection back when the body was read to its end, else close it."""
        self._finish(reuse=self.raw.isclosed())

    def _finish(self, reuse: bool) -> None:
        release, self._release = self._release, None
        if release is not None:
            reuse = reuse and not self.raw.will_close
            if not reuse:
                self.raw.close()
            release(reuse)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
