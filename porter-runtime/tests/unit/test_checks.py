"""Requests this host cannot honour fail before anything is created."""

import resource

import pytest
from porter_runtime import checks
from porter_runtime.capabilities import has_capability
from porter_runtime.errors import ConfigError
from porter_runtime.namespaces import NamespacePlan
from porter_runtime.spec import default_config


def check(doc, console=None):
    plan = NamespacePlan(doc["linux"]["namespaces"])
    checks.check_config(doc, plan, console)


def config(**process):
    doc = default_config()
    doc["process"]["terminal"] = False
    doc["process"].update(process)
    return doc


def test_default_config_passes():
    check(config())


def test_sysctls_map_to_their_namespace():
    assert checks.sysctl_namespace("net.ipv4.ip_forward") == "network"
    assert checks.sysctl_namespace("kernel.shmmax") == "ipc"
    assert checks.sysctl_namespace("fs.mqueue.queues_max") == "ipc"
    assert checks.sysctl_namespace("vm.swappiness") is None


def test_non_namespaced_sysctl_is_refused():
    doc = config()
    doc["linux"]["sysctl"] = {"vm.swappiness": "10"}
    with pytest.raises(ConfigError, match="not namespaced"):
        check(doc)


def test_network_sysctl_needs_a_network_namespace():
    doc = config()
    doc["linux"]["namespaces"] = [n for n in doc["linux"]["namespaces"] if n["type"] != "network"]
    doc["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
    with pytest.raises(ConfigError, match="network namespace"):
        check(doc)


def test_hostname_needs_a_uts_namespace():
    doc = config()
    doc["linux"]["namespaces"] = [n for n in doc["linux"]["namespaces"] if n["type"] != "uts"]
    with pytest.raises(ConfigError, match="uts namespace"):
        check(doc)


def test_mount_namespace_may_be_left_out():
    doc = config()
    doc["linux"]["namespaces"] = [n for n in doc["linux"]["namespaces"] if n["type"] != "mount"]
    check(doc)


def test_config_without_a_process_passes():
    doc = config()
    del doc["process"]
    check(doc)


def test_console_socket_without_a_process_is_refused():
    doc = config()
    del doc["process"]
    with pytest.raises(ConfigError, match="no process"):
        check(doc, console="/tmp/x.sock")


def test_terminal_needs_a_console_socket():
    with pytest.raises(ConfigError, match="console-socket"):
        check(config(terminal=True))


def test_console_socket_without_terminal_is_refused():
    with pytest.raises(ConfigError, match="terminal is false"):
        check(config(), console="/tmp/x.sock")


def test_soft_rlimit_above_hard_is_refused():
    with pytest.raises(ConfigError, match="above hard limit"):
        check(config(rlimits=[{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5}]))


def test_unknown_rlimit_is_refused():
    with pytest.raises(ConfigError, match="unknown type"):
        check(config(rlimits=[{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]))


@pytest.mark.skipif(has_capability("CAP_SYS_RESOURCE"), reason="needs no CAP_SYS_RESOURCE")
def test_rlimit_above_the_hard_limit_without_cap_sys_resource_is_a_clear_error():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    with pytest.raises(ConfigError, match="CAP_SYS_RESOURCE"):
        check(config(rlimits=[{"type": "RLIMIT_NOFILE", "soft": hard + 1, "hard": hard + 1}]))


def test_apparmor_profile_on_a_host_without_apparmor_is_refused(monkeypatch):
    monkeypatch.setattr("porter_runtime.process.apparmor_enabled", lambda: False)
    with pytest.raises(ConfigError, match="AppArmor is not enabled"):
        check(config(apparmorProfile="docker-default"))


def test_unknown_scheduler_policy_is_refused():
    with pytest.raises(ConfigError, match="unknown policy"):
        check(config(scheduler={"policy": "SCHED_FAST"}))


def test_user_namespace_needs_mappings():
    doc = config()
    doc["linux"]["namespaces"].append({"type": "user"})
    with pytest.raises(ConfigError, match="uidMappings"):
        check(doc)


def test_mappings_without_a_user_namespace_are_refused_by_name():
    doc = config()
    doc["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]
    with pytest.raises(ConfigError, match=r"linux\.gidMappings"):
        check(doc)


def test_mappings_of_a_user_namespace_joined_by_path_are_accepted():
    doc = config()
    doc["linux"]["namespaces"].append({"type": "user", "path": "/proc/1/ns/user"})
    mapping = [{"containerID": 0, "hostID": 0, "size": 1}]
    doc["linux"]["uidMappings"] = mapping
    doc["linux"]["gidMappings"] = mapping
    check(doc)
