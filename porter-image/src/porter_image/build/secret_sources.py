"""What a build is given for `RUN --mount=type=secret` and `type=ssh`, as buildx's flags say it.

    --secret id=ID,src=PATH | id=ID,env=VAR [,type=file|env]
    --ssh default | ID=SOCKET | ID=KEY[,KEY...]

A secret with neither `src` nor `env` is the variable ID when it is set, else the file ID
(buildx's rule). A secret is read only when a RUN that mounts it misses the cache; its bytes
are never part of a cache key, a layer or the history.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MAX_SECRET_SIZE = 500 * 1024  # BuildKit's limit


@dataclass(frozen=True)
class SecretSource:
    id: str
    file: str = ""
    env: str = ""

    @classmethod
    def parse(cls, text: str) -> SecretSource:
        """A `--secret` value; ValueError says what is wrong with it, naming a key but never
        quoting a value, which may be the secret itself pasted in the wrong place."""
        fields: dict[str, str] = {}
        for index, item in enumerate(text.split(","), 1):
            key, sep, value = item.partition("=")
            key = {"source": "src"}.get(key.strip().lower(), key.strip().lower())
            if not sep:
                raise ValueError(f"field {index} is not KEY=VALUE (id=, src=, env= or type=)")
            if key not in ("id", "type", "src", "env"):
                raise ValueError(f"unknown key {key!r}: expected id=, src=, env= or type=")
            fields[key] = value
        ident, kind = fields.get("id", ""), fields.get("type", "")
        if not ident:
            raise ValueError("no id=")
        if kind not in ("", "file", "env"):
            raise ValueError(f"type={kind}: expected file or env")
        file, env = fields.get("src", ""), fields.get("env", "")
        if kind == "env" and not env:
            file, env = "", file
        if file and env:
            raise ValueError(f"secret {ident!r}: src= and env= both given")
        if not file and not env:
            if ident in os.environ:
                env = ident
            else:
                file = ident
        return cls(ident, file, env)

    def read(self) -> bytes:
        """The secret's bytes; ValueError when they cannot be had."""
        if self.env:
            if self.env not in os.environ:
                raise ValueError(f"secret {self.id!r}: the variable {self.env} is not set")
            value = os.environb[os.fsencode(self.env)]
        else:
            try:
                with open(self.file, "rb") as src:
                    value = src.read(MAX_SECRET_SIZE + 1)
            except OSError as exc:
                raise ValueError(f"secret {self.id!r}: {self.file}: {exc.strerror}") from exc
        if len(value) > MAX_SECRET_SIZE:
            raise ValueError(f"secret {self.id!r} is larger than {MAX_SECRET_SIZE} bytes")
        return value


def parse_ssh(text: str, environ: dict[str, str]) -> tuple[str, tuple[str, ...]]:
    """An `--ssh` value as (id, agent socket or key files); an id alone means the agent of
    `SSH_AUTH_SOCK` in `environ`. ValueError says what is wrong with it."""
    ident, sep, paths = text.partition("=")
    if not ident or "," in ident:
        raise ValueError(f"{text!r}: expected ID[=SOCKET|KEY[,KEY...]]")
    found = tuple(path for path in paths.split(",") if path) if sep else ()
    if not found:
        socket = environ.get("SSH_AUTH_SOCK", "")
        if not socket:
            raise ValueError(f"{text!r}: no socket or key given and SSH_AUTH_SOCK is not set")
        found = (socket,)
    missing = [path for path in found if not os.path.exists(path)]
    if missing:
        raise ValueError(f"{text!r}: {missing[0]}: no such file or socket")
    return ident, found
