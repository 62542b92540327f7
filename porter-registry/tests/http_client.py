"""falcon-testing's calling convention over real HTTP, so `Pusher` can push to a live registry."""

from __future__ import annotations

from typing import Any

import requests


class HttpClient:
    """`simulate_get(path, params=, body=, headers=)` and friends, sent to `url` with requests."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(headers or {})

    def simulate_request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(
            method,
            self.url + path,
            params=kwargs.get("params"),
            data=kwargs.get("body"),
            headers=kwargs.get("headers"),
            timeout=60,
        )
        return response

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("simulate_"):
            raise AttributeError(name)
        method = name.removeprefix("simulate_").upper()
        return lambda path, **kwargs: self.simulate_request(method, path, **kwargs)
