"""runc's default bundle config as plain JSON: valid, rootless-aware, and safe to edit."""

from __future__ import annotations

from porter_specs.runtime_config import OCI_VERSION, RuntimeConfig
from porter_specs.runtime_defaults import MASKED_PATHS, default_runtime_config
from porter_specs.validate import problems


def test_the_default_config_and_its_rootless_variant_are_valid_configs():
    assert problems(default_runtime_config(OCI_VERSION), "runtime-config") == []
    assert problems(default_runtime_config(OCI_VERSION, rootless=True), "runtime-config") == []


def test_the_default_config_masks_paths_and_denies_every_device():
    linux = RuntimeConfig.from_json(default_runtime_config(OCI_VERSION)).linux
    assert linux is not None and linux.masked_paths == MASKED_PATHS
    assert linux.resources is not None and linux.resources.devices[0].allow is False


def test_masked_paths_hide_the_powercap_energy_counters():
    """runc 1.2's list: RAPL energy readings leak what other processes compute (PLATYPUS)."""
    assert "/sys/devices/virtual/powercap" in MASKED_PATHS


def test_rootless_maps_container_root_to_the_given_host_ids_in_a_user_namespace():
    linux = default_runtime_config(OCI_VERSION, rootless=True, uid=1234, gid=5678)["linux"]
    assert linux["uidMappings"] == [{"containerID": 0, "hostID": 1234, "size": 1}]
    assert linux["gidMappings"] == [{"containerID": 0, "hostID": 5678, "size": 1}]
    assert {"type": "user"} in linux["namespaces"]
    assert {"type": "network"} not in linux["namespaces"] and "resources" not in linux


def test_each_call_returns_a_config_of_its_own():
    first = default_runtime_config(OCI_VERSION)
    first["process"]["args"].append("-c")
    first["linux"]["maskedPaths"].clear()
    second = default_runtime_config(OCI_VERSION)
    assert second["process"]["args"] == ["sh"] and second["linux"]["maskedPaths"]
