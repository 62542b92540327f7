"""What the global options decide: which daemon to talk to (-H, --context, PORTER_HOST,
DOCKER_HOST, the current context, the default socket) and with which TLS files; and the
client made for it on first use.

Every command starts here, `porter ps` without click (porter_cli.quick) too, so this module
imports nothing beyond os and porter's own light modules: no dataclasses, functools or
pathlib, whose imports cost more than the listing itself."""

from __future__ import annotations

import os

from porter_cli.client.endpoint import DEFAULT_HOST, Endpoint, TLSFiles, parse_host
from porter_cli.config import ConfigFile, config_dir
from porter_cli.errors import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from porter_cli.client.api import Client


def env_flag(*names: str) -> bool:
    return any(os.environ.get(name, "") not in ("", "0", "false") for name in names)


class Options:
    """The global options as given (None: not given)."""

    def __init__(
        self,
        host: str | None = None,
        context: str | None = None,
        config: str | None = None,
        tls: bool = False,
        tlsverify: bool = False,
        tlscacert: str | None = None,
        tlscert: str | None = None,
        tlskey: str | None = None,
    ) -> None:
        self.host = host
        self.context = context
        self.config = config
        self.tls = tls
        self.tlsverify = tlsverify
        self.tlscacert = tlscacert
        self.tlscert = tlscert
        self.tlskey = tlskey


class Session:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.config_path: str = config_dir(options.config)
        self.config = ConfigFile(self.config_path)
        self._endpoint: Endpoint | None = None
        self._client: Client | None = None

    @property
    def config_dir(self) -> Path:
        from pathlib import Path

        return Path(self.config_path)

    def context_name(self) -> str:
        """The context in use: --context, PORTER_CONTEXT, config.json's, else "default"."""
        if self.options.context:
            return self.options.context
        env = os.environ.get("PORTER_CONTEXT")
        return env or self.config.current_context or "default"

    @property
    def endpoint(self) -> Endpoint:
        if self._endpoint is None:
            self._endpoint = self._find_endpoint()
        return self._endpoint

    def _find_endpoint(self) -> Endpoint:
        options = self.options
        if options.host and options.context:
            raise CliError("conflicting options: either -H or --context, not both", 125)
        host = options.host
        if not host and not options.context:
            host = os.environ.get("PORTER_HOST") or os.environ.get("DOCKER_HOST")
        if not host:
            name = self.context_name()
            if name != "default":
                from porter_cli.contexts import ContextStore

                return ContextStore(self.config_dir).load(name).endpoint()
            host = DEFAULT_HOST
        parse_host(host)  # a bad address fails here, with its reason
        return Endpoint(host, self._tls(host))

    def _tls(self, host: str) -> TLSFiles | None:
        options = self.options
        verify = options.tlsverify or env_flag("PORTER_TLS_VERIFY", "DOCKER_TLS_VERIFY")
        if not (verify or options.tls) or not host.startswith(("tcp://", "https://")):
            return None
        cert_dir = (
            os.environ.get("PORTER_CERT_PATH")
            or os.environ.get("DOCKER_CERT_PATH")
            or self.config_path
        )

        def pick(given: str | None, default: str) -> str | None:
            if given:
                return given
            candidate = os.path.join(cert_dir, default)
            return candidate if os.path.exists(candidate) else None

        return TLSFiles(
            ca=pick(options.tlscacert, "ca.pem"),
            cert=pick(options.tlscert, "cert.pem"),
            key=pick(options.tlskey, "key.pem"),
            verify=verify,
        )

    @property
    def client(self) -> Client:
        """The client of the endpoint, made once (several threads may ask at once in `each`,
        which asks first, before starting them)."""
        if self._client is None:
            from porter_cli.client.api import Client

            version = os.environ.get("PORTER_API_VERSION") or os.environ.get("DOCKER_API_VERSION")
            self._client = Client(self.endpoint, version=version or None)
        return self._client
