"""Docker's seccomp profile format (what `--security-opt seccomp=FILE` sends) as a
runtime-spec `linux.seccomp`, as moby's `profiles/seccomp` loads it.

A rule with `includes`/`excludes` applies only when the container's capabilities (and the
machine's architecture) agree with them; `archMap` gives the architectures with their
sub-architectures. Kernel-version conditions (`minKernel`) are not checked.
"""

from __future__ import annotations

import json
import platform
from typing import Any

from porterd.errors import InvalidParameter

_MACHINE_ARCH = {
    "x86_64": "SCMP_ARCH_X86_64",
    "aarch64": "SCMP_ARCH_AARCH64",
    "armv7l": "SCMP_ARCH_ARM",
    "ppc64le": "SCMP_ARCH_PPC64LE",
    "s390x": "SCMP_ARCH_S390X",
}


def docker_profile_to_oci(text: str, capabilities: list[str]) -> dict[str, Any]:
    """The profile sent as `seccomp=` JSON text, for a container with `capabilities`."""
    try:
        profile = json.loads(text)
    except ValueError as error:
        raise InvalidParameter(f"decoding seccomp profile failed: {error}") from error
    return profile_to_oci(profile, capabilities)


def profile_to_oci(profile: Any, capabilities: list[str]) -> dict[str, Any]:
    """A docker-format profile (decoded) as the runtime-spec `linux.seccomp`."""
    if not isinstance(profile, dict) or "defaultAction" not in profile:
        raise InvalidParameter("decoding seccomp profile failed: no defaultAction")
    arch = _MACHINE_ARCH.get(platform.machine(), "")
    seccomp: dict[str, Any] = {"defaultAction": profile["defaultAction"]}
    if profile.get("defaultErrnoRet") is not None:
        seccomp["defaultErrnoRet"] = profile["defaultErrnoRet"]
    architectures = list(profile.get("architectures") or [])
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == arch:
            architectures = [arch, *(entry.get("subArchitectures") or [])]
    if architectures:
        seccomp["architectures"] = architectures
    if profile.get("flags"):
        seccomp["flags"] = list(profile["flags"])
    syscalls = []
    for rule in profile.get("syscalls") or []:
        if not _applies(rule, capabilities, arch):
            continue
        names = rule.get("names") or ([rule["name"]] if rule.get("name") else [])
        syscall: dict[str, Any] = {"names": names, "action": rule.get("action")}
        if rule.get("args"):
            syscall["args"] = rule["args"]
        if rule.get("errnoRet") is not None:
            syscall["errnoRet"] = rule["errnoRet"]
        syscalls.append(syscall)
    if syscalls:
        seccomp["syscalls"] = syscalls
    return seccomp


def _applies(rule: dict[str, Any], capabilities: list[str], arch: str) -> bool:
    includes, excludes = rule.get("includes") or {}, rule.get("excludes") or {}
    if any(cap not in capabilities for cap in includes.get("caps") or []):
        return False
    if includes.get("arches") and arch not in _arches(includes["arches"]):
        return False
    if any(cap in capabilities for cap in excludes.get("caps") or []):
        return False
    return not (excludes.get("arches") and arch in _arches(excludes["arches"]))


def _arches(names: list[str]) -> set[str]:
    """Docker's short names (amd64, arm64) and libseccomp's, all as libseccomp's."""
    short = {"amd64": "SCMP_ARCH_X86_64", "arm64": "SCMP_ARCH_AARCH64", "arm": "SCMP_ARCH_ARM"}
    return {short.get(name, name) for name in names}
