"""Where warnings and errors go: stderr, and --log in text or JSON (the shape runc uses,
which podman and containerd read back)."""

from __future__ import annotations

import os
import sys
import time

_config = {"path": None, "format": "text", "debug": False}


def configure(path: str | None, fmt: str, debug: bool) -> None:
    _config.update(path=path, format=fmt, debug=debug)


def _write(level: str, message: str) -> None:
    path = _config["path"]
    if not path:
        return
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if _config["format"] == "json":
        from porter_runtime import jsonio

        line = jsonio.dumps({"level": level, "msg": message, "time": stamp})
    else:
        line = f'time="{stamp}" level={level} msg="{message}"'
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def error(message: str) -> None:
    _write("error", message)
    sys.stderr.write(f"porter-runtime: error: {message}\n")


def warning(message: str) -> None:
    _write("warning", message)
    sys.stderr.write(f"porter-runtime: warning: {message}\n")


def debug(message: str) -> None:
    if _config["debug"]:
        _write("debug", message)
        sys.stderr.write(f"porter-runtime: debug: {message}\n")
