"""A small distribution-spec HTTP client: base URL, optional credentials, request tracing.

It answers 401 challenges itself (Basic, or Bearer through the token endpoint the challenge
names), so the checks read as plain requests and responses.
"""

from __future__ import annotations

import base64
import re
import sys
from urllib.parse import urljoin, urlsplit

import requests

REQUEST_TIMEOUT = 15.0
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_TEXT_TYPES = ("json", "text")


class RegistryClient:
    """Sends requests to one registry; paths are relative to its root, Locations may be absolute."""

    def __init__(
        self,
        root_url: str,
        username: str | None = None,
        password: str | None = None,
        debug: bool = False,
    ) -> None:
        self.root_url = root_url.rstrip("/")
        self._session = requests.Session()
        self._credentials = (username, password or "") if username else None
        self._authorization: str | None = None
        self._debug = debug

    def close(self) -> None:
        self._session.close()

    def url(self, path_or_url: str) -> str:
        """An absolute URL for a path ("/v2/...") or a Location header, relative or absolute."""
        return urljoin(self.root_url + "/", path_or_url)

    @staticmethod
    def path_of(location: str) -> str:
        """The path of a Location header without scheme, host or query, to compare with routes."""
        return urlsplit(location).path

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> requests.Response:
        """One request, retried once with credentials when the registry challenges it."""
        url = self.url(path_or_url)
        sent_headers = dict(headers or {})
        if self._authorization:
            sent_headers.setdefault("Authorization", self._authorization)
        response = self._send(method, url, sent_headers, data, params)
        if response.status_code == 401 and self._credentials:
            authorization = self._answer_challenge(response.headers.get("WWW-Authenticate", ""))
            if authorization:
                self._authorization = authorization
                sent_headers["Authorization"] = authorization
                response = self._send(method, url, sent_headers, data, params)
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs) -> requests.Response:
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def _send(self, method, url, headers, data, params) -> requests.Response:
        response = self._session.request(
            method, url, headers=headers, data=data, params=params, timeout=REQUEST_TIMEOUT
        )
        if self._debug:
            _trace(response)
        return response

    def _answer_challenge(self, challenge: str) -> str | None:
        """An Authorization header value for a WWW-Authenticate challenge, or None."""
        assert self._credentials is not None
        scheme = challenge.split(" ", 1)[0].lower()
        user, password = self._credentials
        basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if scheme == "basic":
            return basic
        if scheme != "bearer":
            return None
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        realm = params.pop("realm", None)
        if not realm:
            return None
        reply = self._session.get(
            realm, params=params, headers={"Authorization": basic}, timeout=REQUEST_TIMEOUT
        )
        if reply.status_code != 200:
            return None
        body = reply.json()
        token = body.get("token") or body.get("access_token")
        return f"Bearer {token}" if token else None


def _trace(response: requests.Response) -> None:
    """Print one exchange; pytest shows it with the failing test (or live with -s)."""
    request = response.request
    lines = [f"> {request.method} {request.url}"]
    lines += [f"> {k}: {v}" for k, v in request.headers.items() if k != "Authorization"]
    lines.append(f"< {response.status_code} {response.reason}")
    lines += [f"< {k}: {v}" for k, v in response.headers.items()]
    content_type = response.headers.get("Content-Type", "")
    if response.content and any(t in content_type for t in _TEXT_TYPES):
        lines.append(response.text[:2000])
    print("\n".join(lines) + "\n", file=sys.stderr)
