"""porterd.cluster.spec: a ServiceSpec is checked and given docker's defaults in one place."""

from __future__ import annotations

from typing import Any

import pytest
from porterd.cluster.spec import AutoscalePolicy, Constraint, normalized, published_ports
from porterd.errors import InvalidParameter


def spec(**fields: Any) -> dict[str, Any]:
    return {"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}, **fields}


def test_a_minimal_spec_gets_one_replica_and_docker_s_update_defaults() -> None:
    result = normalized(spec())
    assert result["Mode"] == {"Replicated": {"Replicas": 1}}
    assert result["UpdateConfig"]["Parallelism"] == 1
    assert result["UpdateConfig"]["Order"] == "stop-first"
    assert result["UpdateConfig"]["FailureAction"] == "pause"


def test_a_global_mode_is_kept() -> None:
    assert normalized(spec(Mode={"Global": {}}))["Mode"] == {"Global": {}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Name": "bad name"}, "invalid service name"),
        ({"TaskTemplate": {"ContainerSpec": {}}}, "Image is required"),
        ({"TaskTemplate": "x"}, "TaskTemplate must be an object"),
        ({"Mode": {"Replicated": {"Replicas": -2}}}, "cannot be negative"),
        ({"Mode": {"Replicated": {"Replicas": "3"}}}, "whole number"),
        ({"Mode": {"Sometimes": {}}}, "Replicated or Global"),
        ({"UpdateConfig": {"Order": "random"}}, "stop-first or start-first"),
        ({"UpdateConfig": {"FailureAction": "panic"}}, "pause or rollback"),
        ({"UpdateConfig": {"MaxFailureRatio": 1.5}}, "a number from 0 to 1"),
        ({"RollbackConfig": {"MaxFailureRatio": "half"}}, "a number from 0 to 1"),
        ({"EndpointSpec": {"Ports": [{"TargetPort": 0}]}}, "at least 1"),
        ({"EndpointSpec": {"Ports": [{"TargetPort": 80, "PublishedPort": 70000}]}}, "65535"),
        ({"Labels": {"porter.autoscale": "min=3,max=2,cpu=50%"}}, "min <= max"),
    ],
)
def test_a_malformed_spec_is_one_invalid_parameter_naming_the_fault(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        normalized(spec(**fields))


def test_the_same_port_published_twice_in_one_spec_is_refused() -> None:
    ports = [{"TargetPort": 80, "PublishedPort": 8080}, {"TargetPort": 81, "PublishedPort": 8080}]
    with pytest.raises(InvalidParameter, match="published twice"):
        normalized(spec(EndpointSpec={"Ports": ports}))


def test_published_ports_lists_only_ports_with_a_published_number() -> None:
    ports = [{"TargetPort": 80, "PublishedPort": 8080}, {"TargetPort": 81}]
    assert published_ports(normalized(spec(EndpointSpec={"Ports": ports}))) == [("tcp", 8080)]


def test_a_label_constraint_is_parsed_without_the_node_prefix() -> None:
    assert Constraint.parse("node.labels.zone == a") == Constraint("labels.zone", True, "a")
    assert Constraint.parse("node.role!=manager") == Constraint("role", False, "manager")


@pytest.mark.parametrize("text", ["zone==a", "node.labels.==a", "node.role=manager", "engine.x==1"])
def test_a_malformed_constraint_is_refused(text: str) -> None:
    with pytest.raises(InvalidParameter, match="invalid constraint"):
        Constraint.parse(text)


def test_an_autoscale_label_is_parsed_with_its_cpu_target() -> None:
    assert AutoscalePolicy.parse("min=2,max=10,cpu=70%") == AutoscalePolicy(2, 10, 70.0, None)


def test_an_autoscale_without_a_target_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="cpu=P% or rps=N"):
        AutoscalePolicy.parse("min=1,max=3")


def test_an_autoscale_label_sets_the_stabilisation_windows() -> None:
    policy = AutoscalePolicy.parse("min=1,max=3,cpu=50%,up-window=10s,down-window=2m")
    assert (policy.up_window, policy.down_window) == (10.0, 120.0)


def test_the_stabilisation_windows_default_to_the_hpas() -> None:
    policy = AutoscalePolicy.parse("min=1,max=3,cpu=50%")
    assert (policy.up_window, policy.down_window) == (0.0, 300.0)


def test_a_malformed_stabilisation_window_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="down-window"):
        AutoscalePolicy.parse("min=1,max=3,cpu=50%,down-window=soon")


def test_autoscaling_a_global_service_is_refused() -> None:
    labels = {"porter.autoscale": "min=1,max=3,cpu=50%"}
    with pytest.raises(InvalidParameter, match="only be used with replicated mode"):
        normalized(spec(Mode={"Global": {}}, Labels=labels))


def test_an_rps_target_without_a_published_port_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="rps needs a published port"):
        normalized(spec(Labels={"porter.autoscale": "min=1,max=3,rps=5"}))


def test_an_rps_target_on_a_service_with_a_published_port_is_taken() -> None:
    ports = {"Ports": [{"TargetPort": 80, "PublishedPort": 8080}]}
    labels = {"porter.autoscale": "min=1,max=3,rps=5"}
    assert normalized(spec(EndpointSpec=ports, Labels=labels))["Labels"] == labels
