"""The implementations a configuration picks: its authorizer and its upstream.

This module sits above the implementations it chooses between (`auth.AllowAll`,
`basic_auth`, `bearer_auth`; `upstream.NoUpstream`, `proxy`), so none of them needs to know
about the others or about the choice.
"""

from __future__ import annotations

from porter_registry.auth import AllowAll, Authorizer
from porter_registry.config import AuthConfig, ConfigError, ProxyConfig
from porter_registry.upstream import ContentSource, NoUpstream


def build_authorizer(auth: AuthConfig) -> Authorizer:
    """The authorizer the `[auth]` config asks for: `none`, `htpasswd` (Basic, see basic_auth)
    or `token` (Bearer, see bearer_auth). An authorizer may carry `routes`, (path, resource)
    pairs the app serves beside the API, such as the built-in token endpoint."""
    if auth.kind == "none":
        return AllowAll()
    if auth.kind == "htpasswd":
        from porter_registry.basic_auth import build_basic_authorizer

        return build_basic_authorizer(auth)
    if auth.kind == "token":
        from porter_registry.bearer_auth import build_bearer_authorizer

        return build_bearer_authorizer(auth)
    raise ConfigError(f"auth.kind {auth.kind!r}: use none, htpasswd or token")


def build_upstream(proxy: ProxyConfig) -> ContentSource:
    """The content source `[proxy]` asks for: without a URL none, with one the upstream
    registry over HTTP (see proxy.py)."""
    if not proxy.url:
        return NoUpstream()
    from porter_registry.proxy import build_proxy

    return build_proxy(proxy)
