"""Reading and validating a bundle's config.json.

Two layers of validation. A structural check of every field the runtime reads (types,
required members, enums) runs on every create: it is cheap and gives JSON-pointer errors.
The full runtime-spec JSON Schema and rules (porter_specs.validate, kind "runtime-config")
run on every create too: a valid config is checked by porter_specs' schema_check and
runtime_rules alone; porter_specs.validate (and jsonschema, for its list of problems) is
imported only for a config that breaks the schema or a rule.
"""

from __future__ import annotations

import os

from porter_runtime import jsonio
from porter_runtime.errors import ConfigError

_STR_LIST = [str]
_INT_LIST = [int]
_MAPPING = [
    {"containerID": int, "hostID": int, "size": int, "!": ("containerID", "hostID", "size")}
]
_HOOK = [{"path": str, "args": _STR_LIST, "env": _STR_LIST, "timeout": int, "!": ("path",)}]
_CAPS = {k: _STR_LIST for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}

SHAPE: dict = {
    "!": ("ociVersion",),
    "ociVersion": str,
    "hostname": str,
    "domainname": str,
    "annotations": {"*": str},
    "root": {"path": str, "readonly": bool, "!": ("path",)},
    "mounts": [
        {
            "destination": str,
            "source": str,
            "type": str,
            "options": _STR_LIST,
            "uidMappings": _MAPPING,
            "gidMappings": _MAPPING,
            "!": ("destination",),
        }
    ],
    "process": {
        "!": ("cwd",),
        "terminal": bool,
        "cwd": str,
        "env": _STR_LIST,
        "args": _STR_LIST,
        "commandLine": str,
        "consoleSize": {"height": int, "width": int},
        "rlimits": [{"type": str, "soft": int, "hard": int, "!": ("type", "soft", "hard")}],
        "apparmorProfile": str,
        "selinuxLabel": str,
        "noNewPrivileges": bool,
        "oomScoreAdj": int,
        "capabilities": _CAPS,
        "user": {
            "uid": int,
            "gid": int,
            "umask": int,
            "additionalGids": _INT_LIST,
            "username": str,
            "!": ("uid", "gid"),
        },
        "scheduler": {
            "policy": str,
            "nice": int,
            "priority": int,
            "flags": _STR_LIST,
            "runtime": int,
            "deadline": int,
            "period": int,
            "!": ("policy",),
        },
        "ioPriority": {"class": str, "priority": int, "!": ("class",)},
        "execCPUAffinity": {"initial": str, "final": str},
    },
    "hooks": {
        k: _HOOK
        for k in (
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop",
        )
    },
    "linux": {
        "namespaces": [{"type": str, "path": str, "!": ("type",)}],
        "uidMappings": _MAPPING,
        "gidMappings": _MAPPING,
        "timeOffsets": {"*": {"secs": int, "nanosecs": int}},
        "devices": [
            {
                "type": str,
                "path": str,
                "major": int,
                "minor": int,
                "fileMode": int,
                "uid": int,
                "gid": int,
                "!": ("type", "path"),
            }
        ],
        "cgroupsPath": str,
        "resources": {"*": object},
        "rootfsPropagation": str,
        "seccomp": {"*": object},
        "sysctl": {"*": str},
        "maskedPaths": _STR_LIST,
        "readonlyPaths": _STR_LIST,
        "mountLabel": str,
        "intelRdt": {"*": object},
        "personality": {"domain": str, "flags": _STR_LIST, "!": ("domain",)},
    },
}

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    bool: "a boolean",
    list: "an array",
    dict: "an object",
    object: "a value",
}
ENUMS = {
    "/linux/rootfsPropagation": (
        "private",
        "shared",
        "slave",
        "unbindable",
        "rprivate",
        "rshared",
        "rslave",
        "runbindable",
        "",
    ),
    "/linux/personality/domain": ("LINUX", "LINUX32"),
    "/process/ioPriority/class": ("IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"),
}


def check_shape(value: object, shape: object, pointer: str = "") -> None:
    """Raise ConfigError naming the JSON pointer of the first value of the wrong shape."""
    if isinstance(shape, dict):
        _check_object(value, shape, pointer)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            raise ConfigError(f"config.json {pointer}", "must be an array")
        for index, item in enumerate(value):
            check_shape(item, shape[0], f"{pointer}/{index}")
    elif shape is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"config.json {pointer}", "must be an integer")
    elif shape is not object and not isinstance(value, shape):
        raise ConfigError(f"config.json {pointer}", f"must be {_TYPE_NAMES[shape]}")
    if pointer in ENUMS and value not in ENUMS[pointer]:
        allowed = ", ".join(v for v in ENUMS[pointer] if v)
        raise ConfigError(f"config.json {pointer}", f"{value!r} is not one of {allowed}")


def _check_object(value: object, shape: dict, pointer: str) -> None:
    if not isinstance(value, dict):
        raise ConfigError(f"config.json {pointer or '/'}", "must be an object")
    for key in shape.get("!", ()):
        if key not in value:
            raise ConfigError(f"config.json {pointer}/{key}", "is required")
    every = shape.get("*")
    for key, item in value.items():
        sub = shape.get(key, every)
        if sub is not None and key != "!":
            check_shape(item, sub, f"{pointer}/{key}")


def validate_schema(document: dict) -> None:
    """The full runtime-spec check: its JSON Schema and the rules beyond it."""
    try:
        from porter_specs import runtime_rules, schema_check
    except ImportError:
        return  # the schema library is not installed: the structural check stands alone
    valid = schema_check.accepts(document, "runtime-config")
    if valid and next(runtime_rules.check_config(document), None) is None:
        return  # what porter_specs.validate would find too, without importing it
    from porter_specs.validate import validate

    try:
        validate(document, "runtime-config")
    except Exception as exc:
        raise ConfigError("config.json", f"violates the runtime-spec schema: {exc}") from exc


def load(bundle: str) -> dict:
    """config.json of `bundle`, parsed and validated, or ConfigError saying why not."""
    path = os.path.join(bundle, "config.json")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ConfigError(path, exc.strerror or "cannot be read") from exc
    try:
        document = jsonio.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"not valid JSON: {exc}") from exc
    check_shape(document, SHAPE)
    validate_schema(document)
    return document


def rootfs_path(bundle: str, config: dict) -> str:
    """root.path made absolute (relative paths are relative to the bundle), checked to exist."""
    root = (config.get("root") or {}).get("path")
    if not root:
        raise ConfigError("config.json /root/path", "is required on Linux")
    path = os.path.realpath(os.path.join(bundle, root))
    if not os.path.isdir(path):
        raise ConfigError(f"root filesystem {path}", "does not exist or is not a directory")
    return path
