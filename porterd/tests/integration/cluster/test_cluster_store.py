"""porterd.cluster.store and membership on a real etcd: nodes on leases, services created and
updated in one transaction each, tasks, and the leader elected through a lease."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from porterd.cluster.membership import Membership
from porterd.cluster.store import ClusterStore, new_task
from porterd.errors import Conflict, InvalidParameter, NotFound

from .cluster_cli import until

pytestmark = pytest.mark.timeout(60)


def web(name: str = "web", replicas: int = 2, ports: tuple[int, ...] = ()) -> dict[str, Any]:
    return {
        "Name": name,
        "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}},
        "Mode": {"Replicated": {"Replicas": replicas}},
        "EndpointSpec": {"Ports": [{"TargetPort": 80, "PublishedPort": p} for p in ports]},
    }


def member(store: ClusterStore, name: str, ttl: int = 1) -> Membership:
    return Membership(store, f"id-{name}", hostname=name, addr="127.0.0.1", ttl=ttl)


@contextlib.contextmanager
def joined(store: ClusterStore, name: str) -> Iterator[Membership]:
    """A node joined for the test's length (a 5 s lease), leaving afterwards."""
    node = member(store, name, ttl=5)
    node.join()
    try:
        yield node
    finally:
        node.leave()


def test_a_joined_node_is_ready_with_an_active_availability(store: ClusterStore) -> None:
    with joined(store, "n1"):
        found = store.node("n1")
        assert (found["Status"]["State"], found["Spec"]["Availability"]) == ("ready", "active")


def test_a_node_whose_lease_expires_is_down(store: ClusterStore) -> None:
    node = member(store, "n1")
    node.join()
    node.abandon()
    until(lambda: store.node("n1")["Status"]["State"] == "down", 15, "the node down")


def test_a_node_that_rejoins_keeps_the_availability_and_labels_set_before(
    store: ClusterStore,
) -> None:
    node = member(store, "n1", ttl=5)
    node.join()
    found = store.node("n1")
    store.update_node(
        "n1", found["Version"]["Index"], {"Availability": "drain", "Labels": {"z": "1"}}
    )
    node.leave()
    again = member(store, "n1", ttl=5)
    again.join()
    try:
        spec = store.node("n1")["Spec"]
        assert (spec["Availability"], spec["Labels"]) == ("drain", {"z": "1"})
    finally:
        again.leave()


def test_a_node_update_made_while_the_node_registers_is_kept(
    store: ClusterStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with joined(store, "n1"):
        pass
    read, drained = store.etcd.get, []

    def read_then_drain(key: str) -> Any:
        """The record as the registering node reads it, drained by an operator just after."""
        found = read(key)
        if key == store.key("nodes", "id-n1") and not drained:
            drained.append(key)
            store.update_node("n1", found.mod_revision, {"Availability": "drain"})
        return found

    monkeypatch.setattr(store.etcd, "get", read_then_drain)
    with joined(store, "n1"):
        assert store.node("n1")["Spec"]["Availability"] == "drain"


def test_a_node_update_from_a_stale_version_is_a_conflict(store: ClusterStore) -> None:
    with joined(store, "n1"):
        version = store.node("n1")["Version"]["Index"]
        store.update_node("n1", version, {"Availability": "pause"})
        with pytest.raises(Conflict, match="changed since"):
            store.update_node("n1", version, {"Availability": "active"})


def test_an_unknown_availability_is_refused(store: ClusterStore) -> None:
    with joined(store, "n1"), pytest.raises(InvalidParameter, match="active, pause or drain"):
        store.update_node("n1", store.node("n1")["Version"]["Index"], {"Availability": "off"})


def test_a_ready_node_is_removed_only_by_force(store: ClusterStore) -> None:
    node = member(store, "n1", ttl=5)
    node.join()
    with pytest.raises(Conflict, match="is ready"):
        store.remove_node("n1")
    store.remove_node("n1", force=True)
    node.leave()
    with pytest.raises(NotFound):
        store.node("n1")


def test_a_node_read_down_that_joined_again_before_the_delete_is_not_removed(
    store: ClusterStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    with joined(store, "n1"):
        stale = store.node("n1")
        stale["Status"]["State"] = "down"  # as read before its porterd joined again
        with monkeypatch.context() as patched:
            patched.setattr(store, "node", lambda ref: stale)
            with pytest.raises(Conflict, match="is ready"):
                store.remove_node("n1")
        assert store.node("n1")["Status"]["State"] == "ready"


def test_the_first_node_leads_and_another_takes_over_when_it_dies(store: ClusterStore) -> None:
    first, second = member(store, "n1"), member(store, "n2")
    first.join()
    second.join()
    try:
        assert (first.leading, second.leading) == (True, False)
        first.abandon()
        until(lambda: second.leading, 10, "the second to lead")
        assert store.leader() == "id-n2"
    finally:
        second.leave()


def test_a_created_service_is_found_by_name_and_by_id(store: ClusterStore) -> None:
    created = store.create_service(web())
    assert store.service("web")["ID"] == created["ID"]
    assert store.service(created["ID"][:6])["Spec"]["Name"] == "web"


def test_a_second_service_of_the_same_name_is_a_conflict(store: ClusterStore) -> None:
    store.create_service(web())
    with pytest.raises(Conflict, match="already in use"):
        store.create_service(web(replicas=3))
    assert len(store.services()) == 1


def test_a_port_published_by_another_service_is_refused_and_nothing_is_created(
    store: ClusterStore,
) -> None:
    # Names that no service id can start with: a lookup also takes an id prefix.
    store.create_service(web("alpha", ports=(8080,)))
    with pytest.raises(InvalidParameter, match="8080/tcp is already published by service 'alpha'"):
        store.create_service(web("bravo", ports=(9090, 8080)))
    assert [s["Spec"]["Name"] for s in store.services()] == ["alpha"]
    with pytest.raises(NotFound):
        store.service("bravo")
    store.create_service(web("charlie", ports=(9090,)))


def test_a_negative_replica_count_is_refused_and_nothing_is_created(store: ClusterStore) -> None:
    with pytest.raises(InvalidParameter, match="cannot be negative"):
        store.create_service(web(replicas=-1))
    assert store.services() == []


def test_an_update_keeps_the_previous_spec_and_a_rollback_brings_it_back(
    store: ClusterStore,
) -> None:
    created = store.create_service(web(replicas=2))
    updated = store.update_service("web", created["Version"]["Index"], web(replicas=5))
    assert updated["PreviousSpec"]["Mode"]["Replicated"]["Replicas"] == 2
    rolled = store.update_service("web", updated["Version"]["Index"], None, rollback=True)
    assert rolled["Spec"]["Mode"]["Replicated"]["Replicas"] == 2
    assert rolled["UpdateStatus"]["State"] == "rollback_started"


def imaged(image: str, replicas: int = 2) -> dict[str, Any]:
    spec = web(replicas=replicas)
    spec["TaskTemplate"]["ContainerSpec"]["Image"] = image
    return spec


def test_a_change_of_the_task_template_starts_an_update(store: ClusterStore) -> None:
    created = store.create_service(web())
    updated = store.update_service("web", created["Version"]["Index"], imaged("busybox:2"))
    assert updated["UpdateStatus"]["State"] == "updating"


def test_a_scale_is_no_update_and_drops_the_last_updates_status(store: ClusterStore) -> None:
    created = store.create_service(web())
    updated = store.update_service("web", created["Version"]["Index"], imaged("busybox:2"))
    done = store.set_service_status(updated, UpdateStatus={"State": "completed"})
    scaled = store.update_service("web", done["Version"]["Index"], imaged("busybox:2", 4))
    assert "UpdateStatus" not in scaled
    assert "UpdateStatus" not in store.service("web")


def test_a_scale_of_a_paused_update_resumes_it(store: ClusterStore) -> None:
    created = store.create_service(web())
    updated = store.update_service("web", created["Version"]["Index"], imaged("busybox:2"))
    paused = store.set_service_status(updated, UpdateStatus={"State": "paused"})
    scaled = store.update_service("web", paused["Version"]["Index"], imaged("busybox:2", 4))
    assert scaled["UpdateStatus"]["State"] == "updating"


def test_an_update_from_a_stale_version_is_a_conflict(store: ClusterStore) -> None:
    created = store.create_service(web())
    store.update_service("web", created["Version"]["Index"], web(replicas=3))
    with pytest.raises(Conflict, match="changed since it was read"):
        store.update_service("web", created["Version"]["Index"], web(replicas=4))
    assert store.service("web")["Spec"]["Mode"]["Replicated"]["Replicas"] == 3


def test_an_update_moves_the_published_port(store: ClusterStore) -> None:
    created = store.create_service(web("a", ports=(8080,)))
    store.update_service("a", created["Version"]["Index"], web("a", ports=(8081,)))
    store.create_service(web("b", ports=(8080,)))
    with pytest.raises(InvalidParameter, match="8081/tcp"):
        store.create_service(web("c", ports=(8081,)))


def test_removing_a_service_removes_its_name_ports_and_tasks(store: ClusterStore) -> None:
    service = store.create_service(web("a", ports=(8080,)))
    assert store.write_tasks([new_task(service, 1, "node")])
    store.remove_service("a")
    assert (store.services(), store.tasks()) == ([], [])
    store.create_service(web("a", ports=(8080,)))


def test_a_task_written_from_a_stale_read_is_refused(store: ClusterStore) -> None:
    service = store.create_service(web())
    assert store.write_tasks([new_task(service, 1, "node")])
    task = store.tasks(service["ID"])[0]
    assert store.write_tasks([{**task, "DesiredState": "shutdown"}])
    assert not store.write_tasks([{**task, "NodeID": "other"}])
    assert store.tasks(service["ID"])[0]["DesiredState"] == "shutdown"
