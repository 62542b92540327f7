"""The client library's errors: each is one line a user can read."""

from __future__ import annotations

from porter_cli.client.jsonload import loads
from porter_specs.errors import PorterError


class ClientError(PorterError):
    """Base of the Engine API client's errors."""


class DaemonUnreachable(ClientError):
    """No daemon answers at the endpoint (socket missing, connection refused, TLS refused)."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"cannot connect to the daemon at {host}: {reason}")
        self.host = host
        self.reason = reason


class APIError(ClientError):
    """The daemon answered with an error status; `message` is its `{"message"}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"Error response from daemon: {message}")
        self.status = status
        self.message = message

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def version_too_new(self) -> bool:
        """The daemon does not speak the API version asked for (dockerd's and porterd's
        "client version 1.43 is too new. Maximum supported API version is 1.41")."""
        return self.status == 400 and "is too new" in self.message


class StreamError(ClientError):
    """A JSON progress stream or an event stream reported an error (`errorDetail`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EndpointError(ClientError):
    """A host address or TLS setting that cannot be used."""


def error_message(status: int, body: bytes) -> str:
    """The daemon's `{"message"}`, or the body itself when it is not that JSON."""
    try:
        document = loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        return document["message"]
    text = body.decode("utf-8", "replace").strip()
    first = text.splitlines()[0] if text else ""
    if first:
        return first
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} error"
