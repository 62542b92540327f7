"""The errors porterd answers with: each carries the HTTP status dockerd uses for it.

The API renders every one as dockerd does, `{"message": str(error)}` with its status, in one
place (the app's error handler); backends raise them and never see a request.
"""

from __future__ import annotations

from porter_specs.errors import PorterError


class DaemonError(PorterError):
    """A request porterd cannot carry out; `status` is the HTTP status that says why."""

    status = 500


class InvalidParameter(DaemonError):
    """A malformed body, a bad query parameter or a value the request may not hold."""

    status = 400


class Unauthorized(DaemonError):
    """A registry refused the credentials given for it."""

    status = 401


class Forbidden(DaemonError):
    """The request is well formed but not allowed (e.g. removing a running container)."""

    status = 403


class NotFound(DaemonError):
    """No such container, image, volume, network or exec instance."""

    status = 404


class Conflict(DaemonError):
    """A name in use, or an object in a state that forbids the request."""

    status = 409


class NotModified(DaemonError):
    """The object is already as asked (a started container started again)."""

    status = 304


class Unavailable(DaemonError):
    """A part porterd depends on (a registry, the runtime, conmon) cannot be reached."""

    status = 503
