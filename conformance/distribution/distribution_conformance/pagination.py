"""Reading paginated lists (tags, catalog) and their RFC 5988 Link headers."""

from __future__ import annotations

import re

import requests

from .checks import describe, expect_status
from .client import RegistryClient

_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
MAX_PAGES = 200


def next_link(response: requests.Response) -> str | None:
    """The target of a Link header's rel="next", or None when there is no next page."""
    header = response.headers.get("Link")
    if header is None:
        return None
    match = _NEXT_LINK.search(header)
    assert match, f'Link header without rel="next":\n{describe(response)}'
    return match.group(1)


def list_page(
    client: RegistryClient, path_or_url: str, key: str, params: dict[str, str] | None = None
) -> tuple[list[str], requests.Response]:
    """One page of a list endpoint: the entries under key, and the response for its headers."""
    response = client.get(path_or_url, params=params)
    expect_status(response, 200)
    entries = response.json().get(key)
    assert entries is None or isinstance(entries, list), describe(response)
    return list(entries or []), response


def walk_pages(client: RegistryClient, path: str, key: str, page_size: int) -> list[str]:
    """Every entry, following Link headers from the first page of page_size entries."""
    entries, response = list_page(client, path, key, {"n": str(page_size)})
    for _ in range(MAX_PAGES):
        link = next_link(response)
        if link is None:
            return entries
        page, response = list_page(client, link, key)
        assert len(page) <= page_size, f"page larger than n={page_size}:\n{describe(response)}"
        entries += page
    raise AssertionError(f"more than {MAX_PAGES} pages from {path}")
