"""The device cgroup rules a container gets: the config's, then runc's default allows."""

from porter_runtime.cgroups.devices import DeviceRule, emulate
from porter_runtime.launch import with_default_devices

FUSE = {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}
NULL = DeviceRule("c", 1, 3, "rwm")


def _policy(rules: list[dict], devices: list[dict]):
    config = {"linux": {"devices": devices}}
    return emulate(with_default_devices({"devices": rules}, config)["devices"], "/test")


def test_config_deny_of_a_linux_device_holds():
    rules = [
        {"allow": True, "access": "rwm"},
        {"allow": False, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
    ]
    policy = _policy(rules, [FUSE])
    assert policy.default_allow
    assert DeviceRule("c", 10, 229, "rwm") in policy.exceptions


def test_linux_device_is_not_allowed_by_itself_under_deny_all():
    policy = _policy([{"allow": False, "access": "rwm"}], [FUSE])
    assert not policy.default_allow
    assert all((r.major, r.minor) != (10, 229) for r in policy.exceptions)


def test_default_devices_are_allowed_under_deny_all():
    policy = _policy([{"allow": False, "access": "rwm"}], [])
    assert NULL in policy.exceptions


def test_default_device_redefined_by_linux_devices_follows_the_config_rules():
    null = {"path": "/dev/null", "type": "c", "major": 1, "minor": 3}
    policy = _policy([{"allow": False, "access": "rwm"}], [null])
    assert NULL not in policy.exceptions


def test_resources_without_device_rules_are_left_alone():
    resources = {"pids": {"limit": 10}}
    assert with_default_devices(resources, {"linux": {"devices": [FUSE]}}) is resources
