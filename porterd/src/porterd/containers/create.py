"""`POST /containers/create`'s body checked and merged with the image's config, as dockerd's
`mergeAndVerifyConfig` does: the image's Env first (the container's win by name), Cmd from the
image unless the container gives a Cmd or an Entrypoint, WorkingDir, User, Labels,
StopSignal, Volumes and ExposedPorts filled in where the container does not say."""

from __future__ import annotations

from typing import Any

from porterd.containers.logs import LogOptions
from porterd.containers.restart import RestartPolicy
from porterd.containers.spec import capabilities_for
from porterd.errors import InvalidParameter

_LISTS = ("Env", "Cmd", "Entrypoint")
# The body's fields and the JSON types dockerd accepts for them (None always allowed).
_CONFIG_TYPES: dict[str, type | tuple[type, ...]] = {
    "Hostname": str, "Domainname": str, "User": str, "WorkingDir": str, "StopSignal": str,
    "Image": str, "Env": list, "Cmd": (list, str), "Entrypoint": (list, str),
    "Labels": dict, "Volumes": dict, "ExposedPorts": dict, "Healthcheck": dict,
    "Tty": bool, "OpenStdin": bool, "StdinOnce": bool, "AttachStdin": bool,
    "AttachStdout": bool, "AttachStderr": bool, "StopTimeout": int, "HostConfig": dict,
}  # fmt: skip
_HOST_TYPES: dict[str, type | tuple[type, ...]] = {
    "Binds": list, "Mounts": list, "Tmpfs": dict, "CapAdd": list, "CapDrop": list,
    "SecurityOpt": list, "Ulimits": list, "Sysctls": dict, "RestartPolicy": dict,
    "LogConfig": dict, "NetworkMode": str, "Runtime": str, "Privileged": bool, "Init": bool,
    "ReadonlyRootfs": bool, "AutoRemove": bool, "Memory": int, "MemorySwap": int,
    "MemoryReservation": int, "NanoCpus": int, "CpuShares": int, "CpuQuota": int,
    "CpuPeriod": int, "CpusetCpus": str, "PidsLimit": int, "ShmSize": int, "OomScoreAdj": int,
}  # fmt: skip


def check_types(document: dict[str, Any], types: dict[str, Any], where: str) -> None:
    """One 400 naming the field when a known field has the wrong JSON type."""
    for key, wanted in types.items():
        value = document.get(key)
        if value is None:
            continue
        if isinstance(value, bool) and wanted is int:
            raise InvalidParameter(f"{where}.{key} must be an integer")
        if not isinstance(value, wanted):
            kinds = wanted if isinstance(wanted, tuple) else (wanted,)
            names = " or ".join(_JSON_NAMES[kind] for kind in kinds)
            raise InvalidParameter(f"{where}.{key} must be {names}")


_HOST_ITEMS = {
    "Binds": str, "CapAdd": str, "CapDrop": str, "SecurityOpt": str, "Ulimits": dict,
    "Mounts": dict,
}  # fmt: skip
_JSON_NAMES = {
    str: "a string",
    list: "a list",
    dict: "an object",
    bool: "a boolean",
    int: "an integer",
}


def merged_config(body: dict[str, Any], image_config: dict[str, Any]) -> dict[str, Any]:
    """The container's Config: the body's, with the image's defaults where it has none."""
    check_types(body, _CONFIG_TYPES, "Config")
    if not all(isinstance(entry, str) for entry in body.get("Env") or ()):
        raise InvalidParameter("Config.Env must hold a string each")
    config = {key: value for key, value in body.items() if key != "HostConfig"}
    for key in _LISTS:
        value = config.get(key)
        if isinstance(value, str):
            config[key] = [value]  # older clients send a string
        elif value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise InvalidParameter(f"{key} must be a list of strings")
    image = image_config.get("config") or {}
    env = list(image.get("Env") or [])
    for entry in config.get("Env") or []:
        name = entry.partition("=")[0]
        if not name:
            raise InvalidParameter(f"invalid environment variable: {entry!r}")
        env = [e for e in env if e.partition("=")[0] != name] + [entry]
    config["Env"] = env
    if not config.get("Entrypoint") and not config.get("Cmd"):
        config["Cmd"] = image.get("Cmd")
    if config.get("Entrypoint") is None:
        config["Entrypoint"] = image.get("Entrypoint")
    elif config["Entrypoint"] == [""]:
        config["Entrypoint"] = None  # `--entrypoint ""` clears the image's
    for key in ("WorkingDir", "User", "StopSignal"):
        config[key] = config.get(key) or image.get(key) or ""
    config["Labels"] = {**(image.get("Labels") or {}), **(config.get("Labels") or {})}
    config["Volumes"] = {**(image.get("Volumes") or {}), **(config.get("Volumes") or {})}
    config["ExposedPorts"] = {
        **(image.get("ExposedPorts") or {}),
        **(config.get("ExposedPorts") or {}),
    }
    if config.get("Healthcheck") is None and image.get("Healthcheck"):
        config["Healthcheck"] = image["Healthcheck"]
    for key in ("Tty", "OpenStdin", "StdinOnce", "AttachStdin", "AttachStdout", "AttachStderr"):
        config[key] = bool(config.get(key))
    config.setdefault("Hostname", "")
    config.setdefault("Domainname", "")
    if config.get("WorkingDir") and not str(config["WorkingDir"]).startswith("/"):
        raise InvalidParameter(
            f"the working directory '{config['WorkingDir']}' is invalid, it needs to be an"
            " absolute path"
        )
    if not config.get("Entrypoint") and not config.get("Cmd"):
        raise InvalidParameter("No command specified")
    return config


def checked_host_config(host_config: dict[str, Any] | None) -> dict[str, Any]:
    """HostConfig with dockerd's defaults, refused when inconsistent (one 400 line)."""
    if host_config is not None and not isinstance(host_config, dict):
        raise InvalidParameter("HostConfig must be an object")
    host = dict(host_config or {})
    check_types(host, _HOST_TYPES, "HostConfig")
    for key, kind in _HOST_ITEMS.items():
        if not all(isinstance(item, kind) for item in host.get(key) or ()):
            raise InvalidParameter(f"HostConfig.{key} must hold {_JSON_NAMES[kind]} each")
    policy = RestartPolicy.from_host_config(host)
    host["RestartPolicy"] = {"Name": policy.name, "MaximumRetryCount": policy.maximum_retry_count}
    if host.get("AutoRemove") and not policy.is_none():
        raise InvalidParameter("can't create 'AutoRemove' container with restart policy")
    options = LogOptions.from_log_config(host.get("LogConfig"))
    host["LogConfig"] = {
        "Type": "json-file",
        "Config": {"max-size": str(options.max_size), "max-file": str(options.max_files)},
    }
    host["NetworkMode"] = host.get("NetworkMode") or "default"
    if not isinstance(host["NetworkMode"], str):
        raise InvalidParameter("HostConfig.NetworkMode must be a string")
    capabilities_for(host)  # unknown capabilities are refused at create, not at start
    for key in ("Memory", "NanoCpus", "CpuShares", "CpuQuota", "CpuPeriod"):
        if (host.get(key) or 0) < 0:
            raise InvalidParameter(f"HostConfig.{key} cannot be negative")
    if host.get("Memory") and host["Memory"] < 6 * 1024 * 1024:
        raise InvalidParameter("Minimum memory limit allowed is 6MB")
    return host
