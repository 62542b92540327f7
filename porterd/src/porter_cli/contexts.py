"""Contexts: named daemons, each a host address and TLS files, kept under
CONFIG/contexts/NAME/ (meta.json, and ca.pem, cert.pem, key.pem copied there). "default" is
the built-in context: the environment and the default socket.

Every command run in a context loads it before its request, so this module imports little
of its own (no re, shutil or dataclasses)."""

from __future__ import annotations

from porter_cli.client.endpoint import Endpoint, TLSFiles, parse_host
from porter_cli.config import read_json, write_json
from porter_cli.errors import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

TLS_FILES = ("ca", "cert", "key")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_NAME_CHARS = _ALNUM | frozenset("_.+-")


def valid_name(name: str) -> bool:
    """A context's name: a letter or digit, then letters, digits and _.+- (ASCII)."""
    return bool(name) and name[0] in _ALNUM and all(char in _NAME_CHARS for char in name)


class Context:
    __slots__ = ("description", "host", "name", "tls")

    def __init__(
        self, name: str, host: str, description: str = "", tls: dict[str, Any] | None = None
    ) -> None:
        self.name = name
        self.host = host
        self.description = description
        self.tls = tls  # {"ca": path, "cert": path, "key": path, "verify": bool}

    def endpoint(self) -> Endpoint:
        if not self.tls:
            return Endpoint(self.host)
        return Endpoint(
            self.host,
            TLSFiles(
                self.tls.get("ca"),
                self.tls.get("cert"),
                self.tls.get("key"),
                bool(self.tls.get("verify", True)),
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Description": self.description,
            "Host": self.host,
            "TLS": self.tls,
        }


class ContextStore:
    def __init__(self, config_dir: Path) -> None:
        self.root = config_dir / "contexts"

    def _folder(self, name: str) -> Path:
        if not valid_name(name) or name == "default":
            raise CliError(
                f"invalid context name {name!r}: letters, digits and _.+- only, not 'default'"
            )
        return self.root / name

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "meta.json").is_file())

    def exists(self, name: str) -> bool:
        return name == "default" or (
            valid_name(name) and (self.root / name / "meta.json").is_file()
        )

    def load(self, name: str) -> Context:
        folder = self._folder(name)
        document = read_json(folder / "meta.json")
        if not document:
            raise CliError(f"context {name!r} does not exist")
        return Context(
            name, document.get("Host", ""), document.get("Description", ""), document.get("TLS")
        )

    def create(self, name: str, host: str, description: str, tls: dict[str, Any] | None) -> Context:
        """Store a new context; TLS files are copied into its folder, so it keeps working
        when the originals move."""
        import shutil

        folder = self._folder(name)
        if (folder / "meta.json").exists():
            raise CliError(f"context {name!r} already exists")
        parse_host(host)
        stored = None
        if tls is not None:
            stored = {"verify": bool(tls.get("verify", True))}
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            for key in TLS_FILES:
                source = tls.get(key)
                if not source:
                    continue
                target = folder / f"{key}.pem"
                try:
                    shutil.copyfile(source, target)
                except OSError as error:
                    raise CliError(
                        f"cannot copy the TLS file {source}: {error.strerror or error}"
                    ) from error
                target.chmod(0o600)
                stored[key] = str(target)
        context = Context(name, host, description, stored)
        write_json(folder / "meta.json", context.to_json())
        return context

    def remove(self, name: str) -> None:
        folder = self._folder(name)
        if not (folder / "meta.json").exists():
            raise CliError(f"context {name!r} does not exist")
        import shutil

        shutil.rmtree(folder)
