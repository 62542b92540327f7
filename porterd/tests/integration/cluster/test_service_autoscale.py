"""Autoscaling on three real porterd under a real, bounded CPU load: `--autoscale
min=1,max=3,cpu=10%,down-window=15s` scales a service up while its tasks burn CPU and back
down once the load has passed and the down window has ended; each decision is in `service
inspect` with its reason, and in the events (type service, action autoscale) of every node.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ..containers_support import busybox_rootfs_tar
from .cluster_cli import porter, until
from .cluster_nodes import ClusterHosts, Node, cluster_hosts, real_cluster_marks

pytestmark = real_cluster_marks()
LOAD_SECONDS = 40  # from the service's creation; every task stops burning at the same moment
# Busy until the epoch second $END (the same for every replica, those scaled up too), then idle.
BURN = (
    'while [ "$(date +%s)" -lt "$END" ]; do i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done;'
    " done; exec sleep 3600"
)


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHosts]:
    rootfs = busybox_rootfs_tar(tmp_path_factory.mktemp("busybox"))
    with cluster_hosts(tmp_path_factory.mktemp("cluster"), rootfs) as hosts:
        yield hosts


@pytest.fixture(scope="module")
def scaled(hosts: ClusterHosts) -> Iterator[dict[str, Any]]:
    """The decisions of a service whose tasks burn CPU for LOAD_SECONDS, once it has been
    scaled up and back down to one task."""
    start = time.time()
    # A low target: on a machine shared with other work a busy task may get a fifth of a core
    # or less, still well above it, while an idle one uses none.
    porter(
        hosts.nodes[0], "service", "create", "--name", "burner", "--replicas", "1",
        "--autoscale", "min=1,max=3,cpu=10%,down-window=15s",
        "-e", f"END={int(start) + LOAD_SECONDS}", "busybox", "sh", "-c", BURN,
    )  # fmt: skip

    def decisions() -> list[dict[str, Any]]:
        (inspected,) = json.loads(porter(hosts.nodes[0], "service", "inspect", "burner"))
        return (inspected.get("Autoscale") or {}).get("Decisions") or []

    until(lambda: any(d["To"] > d["From"] for d in decisions()), 90, "a scale-up")
    until(lambda: decisions()[-1]["To"] == 1, LOAD_SECONDS + 120, "the scale back down")
    yield {"decisions": decisions(), "since": start}
    porter(hosts.nodes[0], "service", "rm", "burner")


def test_the_service_scales_up_under_cpu_load_with_the_reason(scaled: dict[str, Any]) -> None:
    up = next(d for d in scaled["decisions"] if d["To"] > d["From"])
    assert up["From"] == 1 and 1 < up["To"] <= 3
    assert up["Reason"].startswith("cpu ") and "target of 10%" in up["Reason"]


def test_the_service_scales_down_only_after_the_load_and_the_down_window(
    scaled: dict[str, Any],
) -> None:
    up = next(d for d in scaled["decisions"] if d["To"] > d["From"])
    down = scaled["decisions"][-1]
    assert down["To"] == 1 and down["From"] > 1
    assert down["At"] >= int(scaled["since"]) + LOAD_SECONDS  # the load has passed
    assert down["At"] - up["At"] >= 15  # and the down window since the load was last seen
    assert down["Reason"].startswith("cpu ")


def autoscale_messages(node: Node, since: float) -> list[str]:
    """The messages of the service events of burner's autoscaling, as `node` has them."""
    events = porter(
        node, "events", "--since", str(int(since)), "--until", str(int(time.time())),
        "--filter", "type=service", "--format", "{{json .}}",
    )  # fmt: skip
    messages = []
    for line in events.splitlines():
        event = json.loads(line)
        if event["Action"] == "autoscale" and event["Actor"]["Attributes"]["name"] == "burner":
            messages.append(event["Actor"]["Attributes"]["message"])
    return messages


def test_each_decision_is_an_event_of_the_service_on_every_node(
    hosts: ClusterHosts, scaled: dict[str, Any]
) -> None:
    # The leading node decides; `docker events` may ask any node.
    expected = [f"{d['From']} -> {d['To']}: {d['Reason']}" for d in scaled["decisions"]]
    for node in hosts.nodes:
        # An event reaches a node's bus through the store's watch, a moment after the decision
        # the fixture saw; and --until is a whole second, which may end before it.
        until(lambda node=node: autoscale_messages(node, scaled["since"]) == expected, 15,
              f"every decision in {node.name}'s events")  # fmt: skip
