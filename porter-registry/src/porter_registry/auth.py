"""The authorization seam: every request is put to an `Authorizer` before its handler runs.

`AuthorizationMiddleware` asks `authorizer.authorize(request, repository, actions)` once the
route is known: `repository` is the name in the path (None for `/v2/` and `/v2/_catalog`) and
`actions` what the request needs, in the token-auth spec's vocabulary: ("pull",), ("pull",
"push"), ("delete",), ("catalog",) or () for the `/v2/` version check. An authorizer returns to
allow and raises `RegistryError("UNAUTHORIZED" | "DENIED" | "TOOMANYREQUESTS", headers=...)`
to refuse; the error handler renders that like any other refusal, `WWW-Authenticate` included.

Handlers that touch a second repository (a cross-repository mount reads `from`) ask the same
authorizer through `request.context.authorizer`. The default, `AllowAll`, allows everything;
`from_config.build_authorizer` picks the one the configuration asks for.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import falcon

from porter_registry.actions import DELETE, PULL, PUSH

_ACTIONS_BY_METHOD = {
    "GET": (PULL,),
    "HEAD": (PULL,),
    "POST": (PULL, PUSH),
    "PUT": (PULL, PUSH),
    "PATCH": (PULL, PUSH),
    "DELETE": (DELETE,),
}


@runtime_checkable
class Authorizer(Protocol):
    """Decides whether a request may perform `actions` on `repository`."""

    def authorize(
        self, request: falcon.Request, repository: str | None, actions: tuple[str, ...]
    ) -> None:
        """Return to allow; raise a RegistryError (UNAUTHORIZED, DENIED, ...) to refuse."""
        ...


class AllowAll:
    """Anyone may do anything: the registry without auth configured."""

    def authorize(
        self, request: falcon.Request, repository: str | None, actions: tuple[str, ...]
    ) -> None:
        return None


def required_actions(method: str, resource: object) -> tuple[str, ...]:
    """What a request needs: the resource may say (`required_actions`), else by method."""
    declared = getattr(resource, "required_actions", None)
    if declared is not None:
        return tuple(declared(method))
    return _ACTIONS_BY_METHOD.get(method, (PULL, PUSH))


class AuthorizationMiddleware:
    """The falcon middleware slot that consults the authorizer once the route is known."""

    def __init__(self, authorizer: Authorizer) -> None:
        self.authorizer = authorizer

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.authorizer = self.authorizer

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        if resource is None:
            return
        if req.method == "OPTIONS":
            return
        repository = params.get("name")
        self.authorizer.authorize(req, repository, required_actions(req.method, resource))
