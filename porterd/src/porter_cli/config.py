"""porter's own files under ~/.porter (PORTER_CONFIG or --config to move them):

config.json          {"currentContext": NAME, "auths": {REGISTRY: {"auth": base64(user:pass)}}}
contexts/NAME.json   {"Name", "Description", "Host", "TLS": {"ca", "cert", "key", "verify"}}
ca.pem cert.pem key.pem   the default client TLS files (`porter tls init` writes them)

Every command reads config.json (for the current context) before it talks to the daemon, so
reading goes through os and porter_cli.client.jsonload, without pathlib or json; writing
imports them.
"""

from __future__ import annotations

import os

from porter_cli.client.jsonload import loads
from porter_cli.errors import CliError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


def config_dir(explicit: str | None = None) -> str:
    """The folder of porter's files: --config, $PORTER_CONFIG, else ~/.porter."""
    return (
        explicit
        or os.environ.get("PORTER_CONFIG")
        or os.path.join(os.path.expanduser("~"), ".porter")
    )


def read_json(path: str | Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as file:
            document = loads(file.read())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise CliError(f"cannot read {path}: {error}") from error
    if not isinstance(document, dict):
        raise CliError(f"cannot read {path}: not a JSON object")
    return document


def write_json(where: str | Path, document: dict[str, Any], mode: int = 0o600) -> None:
    """Write atomically (temp file, fsync, rename), readable by the owner only."""
    import json
    import tempfile
    from pathlib import Path

    path = Path(where)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(document, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class ConfigFile:
    """config.json: the current context and registry logins."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = directory
        self.path = os.path.join(directory, "config.json")

    def load(self) -> dict[str, Any]:
        return read_json(self.path)

    def save(self, document: dict[str, Any]) -> None:
        write_json(self.path, document)

    @property
    def current_context(self) -> str | None:
        value = self.load().get("currentContext")
        return value if isinstance(value, str) and value else None

    def set_current_context(self, name: str | None) -> None:
        document = self.load()
        if name is None or name == "default":
            document.pop("currentContext", None)
        else:
            document["currentContext"] = name
        self.save(document)

    def auths(self) -> dict[str, str]:
        """Every login kept: registry -> base64(user:pass)."""
        entries = self.load().get("auths")
        if not isinstance(entries, dict):
            return {}
        return {
            registry: entry["auth"]
            for registry, entry in entries.items()
            if isinstance(entry, dict) and isinstance(entry.get("auth"), str) and entry["auth"]
        }

    def auth(self, registry: str) -> str | None:
        return self.auths().get(registry)

    def set_auth(self, registry: str, auth: str | None) -> bool:
        """Store (or with None remove) a login; False when there was nothing to remove."""
        document = self.load()
        auths = document.setdefault("auths", {})
        if auth is None:
            if registry not in auths:
                return False
            del auths[registry]
        else:
            auths[registry] = {"auth": auth}
        self.save(document)
        return True
