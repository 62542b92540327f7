"""The suite's settings, read from the same environment variables as the official suite."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

WORKFLOWS = ("pull", "push", "content_discovery", "content_management")

_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off", ""}


class SettingsError(ValueError):
    """An environment variable holds a value the suite cannot use."""


def parse_bool(name: str, value: str | None, default: bool | None) -> bool | None:
    """Read a boolean the way Go's strconv.ParseBool does (plus yes/no), naming the variable."""
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r}: expected a boolean such as 1, 0, true or false")


@dataclass(frozen=True)
class Settings:
    """What the suite needs to know about the registry under test, and nothing more."""

    root_url: str | None
    namespace: str
    crossmount_namespace: str
    username: str | None
    password: str | None
    debug: bool
    workflows: frozenset[str]
    test_catalog: bool
    automatic_crossmount: bool | None
    target_name: str
    delete_disabled_root_url: str | None

    @classmethod
    def from_environ(cls, environ: os._Environ[str] | dict[str, str]) -> Settings:
        """Build settings from the environment; a workflow toggle left unset means "run it"."""
        suffix = uuid.uuid4().hex[:12]
        workflows = frozenset(
            name
            for name in WORKFLOWS
            if parse_bool(f"OCI_TEST_{name.upper()}", environ.get(f"OCI_TEST_{name.upper()}"), True)
        )
        return cls(
            root_url=(environ.get("OCI_ROOT_URL") or "").rstrip("/") or None,
            namespace=environ.get("OCI_NAMESPACE") or f"conformance/test-{suffix}",
            crossmount_namespace=environ.get("OCI_CROSSMOUNT_NAMESPACE")
            or f"conformance/crossmount-{suffix}",
            username=environ.get("OCI_USERNAME") or None,
            password=environ.get("OCI_PASSWORD") or None,
            debug=bool(parse_bool("OCI_DEBUG", environ.get("OCI_DEBUG"), False)),
            workflows=workflows,
            test_catalog=bool(
                parse_bool("OCI_TEST_CATALOG", environ.get("OCI_TEST_CATALOG"), True)
            ),
            automatic_crossmount=parse_bool(
                "OCI_AUTOMATIC_CROSSMOUNT", environ.get("OCI_AUTOMATIC_CROSSMOUNT"), None
            ),
            target_name=environ.get("OCI_TARGET_NAME") or "external",
            delete_disabled_root_url=(environ.get("OCI_DELETE_DISABLED_ROOT_URL") or "").rstrip("/")
            or None,
        )
