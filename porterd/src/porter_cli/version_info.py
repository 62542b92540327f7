"""What `porter version` prints: porter's own versions and the daemon's, for
porter_cli.system.version under click and for porter_cli.quick without it (so this module
imports neither click nor platform and importlib.metadata, which with the re, email and
zipfile under them took longer than the rest of the command)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from porter_cli.client.api import Client

DEFAULT = """Client:
 Version:           {{.Client.Version}}
 API version:       {{.Client.ApiVersion}}
 Python version:    {{.Client.PythonVersion}}
 OS/Arch:           {{.Client.Os}}/{{.Client.Arch}}
{{if .Server}}
Server:
 Version:           {{.Server.Version}}
 API version:       {{.Server.ApiVersion}} (minimum version {{.Server.MinAPIVersion}})
 OS/Arch:           {{.Server.Os}}/{{.Server.Arch}}
 Kernel Version:    {{.Server.KernelVersion}}{{end}}"""


def package_version() -> str:
    """The installed porter's version: from the name of its dist-info folder on sys.path
    (`porter-0.1.0.dist-info`, as wheels and editable installs leave it), else as
    importlib.metadata finds it, else "unknown"."""
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            stem, dot, kind = name.rpartition(".")
            project, dash, version = stem.partition("-")
            if dot and kind == "dist-info" and dash and project.lower() == "porter":
                return version
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("porter")
    except PackageNotFoundError:
        return "unknown"


def client_version() -> dict[str, str]:
    from porter_cli.client.api import MAX_VERSION

    machine = os.uname().machine.lower()  # platform.machine()
    return {
        "Version": package_version(),
        "ApiVersion": MAX_VERSION,
        "PythonVersion": sys.version.split()[0],  # platform.python_version()
        "Os": sys.platform,
        "Arch": {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine),
    }


def show_version(client: Client, format_: str | None = None) -> None:
    """Print the client's versions and the daemon's (`format_`: json or a template); the
    client's are printed even when the daemon cannot be asked, whose error is raised then."""
    from porter_specs.errors import PorterError

    from porter_cli.formatter.template import Template

    info: dict[str, object] = {"Client": client_version(), "Server": None}
    failure = None
    try:
        info["Server"] = client.get_json("/version")
        info["Client"]["ApiVersion"] = client.version  # type: ignore[index]
    except PorterError as error:
        failure = error
    if format_ == "json":
        import json

        text = json.dumps(info, separators=(",", ":"))
    else:
        text = Template(format_ or DEFAULT).render(info)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    if failure is not None:
        raise failure
