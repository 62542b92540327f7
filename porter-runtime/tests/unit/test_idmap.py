"""Which uid/gid maps go through newuidmap/newgidmap, and what those helpers are given."""

import os

import pytest
from porter_runtime import idmap
from porter_runtime.errors import ConfigError

USER, GROUP = 1000, 1001
SUBORDINATE = 100000


def own(host):
    return [{"containerID": 0, "hostID": host, "size": 1}]


def two_ranges(host):
    return [*own(host), {"containerID": 1, "hostID": SUBORDINATE, "size": 65536}]


def linux(uids, gids):
    return {"uidMappings": uids, "gidMappings": gids}


def test_root_writes_every_map_itself():
    assert idmap.helpers_needed(linux(two_ranges(0), two_ranges(0)), 0, 0) == {}


def test_own_ids_alone_need_no_helper():
    assert idmap.helpers_needed(linux(own(USER), own(GROUP)), USER, GROUP) == {}


def test_own_id_under_another_container_id_needs_no_helper():
    mapping = [{"containerID": 1000, "hostID": USER, "size": 1}]
    assert idmap.helpers_needed(linux(mapping, own(GROUP)), USER, GROUP) == {}


def test_subordinate_ranges_need_both_helpers():
    helpers = idmap.helpers_needed(linux(two_ranges(USER), two_ranges(GROUP)), USER, GROUP)
    assert helpers == {"uidMappings": "newuidmap", "gidMappings": "newgidmap"}


def test_one_line_of_another_host_id_needs_the_helper():
    helpers = idmap.helpers_needed(linux(own(SUBORDINATE), own(GROUP)), USER, GROUP)
    assert helpers == {"uidMappings": "newuidmap"}


def test_own_id_with_a_size_beyond_one_needs_the_helper():
    mapping = [{"containerID": 0, "hostID": USER, "size": 2}]
    assert idmap.helpers_needed(linux(mapping, own(GROUP)), USER, GROUP) == {
        "uidMappings": "newuidmap"
    }


def test_gid_map_is_judged_against_the_effective_gid():
    helpers = idmap.helpers_needed(linux(own(USER), own(USER)), USER, GROUP)
    assert helpers == {"gidMappings": "newgidmap"}


def test_setgroups_is_denied_only_when_unprivileged_and_writing_gid_map_itself():
    assert idmap.denies_setgroups({}, USER)
    assert idmap.denies_setgroups({"uidMappings": "newuidmap"}, USER)
    assert not idmap.denies_setgroups({"gidMappings": "newgidmap"}, USER)
    assert not idmap.denies_setgroups({}, 0)


def test_helper_argv_is_pid_then_triples_in_order():
    argv = idmap.helper_argv("/usr/bin/newuidmap", 4242, two_ranges(USER))
    assert argv == ["/usr/bin/newuidmap", "4242", "0", "1000", "1", "1", "100000", "65536"]


def make_helper(folder, name, script="exit 0", mode=0o755):
    path = folder / name
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(mode)
    return str(path)


def test_helper_is_found_in_the_first_path_folder_that_has_it(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    make_helper(second, "newuidmap")
    found = make_helper(first, "newuidmap")
    assert idmap.find_helper("newuidmap", f"{first}:{second}") == found


def test_helper_that_is_not_executable_is_passed_over(tmp_path):
    make_helper(tmp_path, "newuidmap", mode=0o644)
    assert idmap.find_helper("newuidmap", str(tmp_path)) is None


def test_helper_in_a_relative_path_folder_is_not_used(tmp_path, monkeypatch):
    make_helper(tmp_path, "newuidmap")
    monkeypatch.chdir(tmp_path)
    assert idmap.find_helper("newuidmap", ":.") is None


@pytest.fixture
def unprivileged(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: USER)
    monkeypatch.setattr(os, "getegid", lambda: GROUP)


def test_missing_helper_is_a_config_error_naming_it_and_path(tmp_path, monkeypatch, unprivileged):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=r"linux.uidMappings: .*newuidmap.*not on PATH") as err:
        idmap.check_helpers(linux(two_ranges(USER), own(GROUP)))
    assert err.value.helper == "newuidmap"


def test_own_ids_alone_need_nothing_on_path(monkeypatch, unprivileged):
    monkeypatch.setenv("PATH", "")
    idmap.check_helpers(linux(own(USER), own(GROUP)))


def test_helper_is_run_with_the_maps_as_arguments(tmp_path, monkeypatch):
    record = tmp_path / "argv"
    make_helper(tmp_path, "newgidmap", f'echo "$@" > {record}')
    monkeypatch.setenv("PATH", str(tmp_path))
    idmap.run_helper("gidMappings", "newgidmap", 77, two_ranges(GROUP), "/etc/subgid")
    assert record.read_text() == "77 0 1001 1 1 100000 65536\n"


def test_helper_refusal_is_one_line_with_what_it_said(tmp_path, monkeypatch):
    said = "echo 'newuidmap: uid range [1-65537) -> [100000-165536) not allowed' >&2\nexit 1"
    make_helper(tmp_path, "newuidmap", said)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(idmap.IdMapError) as err:
        idmap.run_helper("uidMappings", "newuidmap", 77, two_ranges(USER), "/etc/subuid")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("linux.uidMappings: newuidmap refused 0 1000 1 1 100000 65536")
    assert "not allowed" in message and "/etc/subuid" in message


def test_create_checks_refuse_subordinate_ranges_without_helpers(monkeypatch, unprivileged):
    from porter_runtime.checks import check_config
    from porter_runtime.namespaces import NamespacePlan
    from porter_runtime.spec import default_config

    doc = default_config(rootless=True)
    doc["process"]["terminal"] = False
    doc["linux"].update(linux(two_ranges(USER), two_ranges(GROUP)))
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(idmap.IdMapError, match="newuidmap"):
        check_config(doc, NamespacePlan(doc["linux"]["namespaces"]), None)
