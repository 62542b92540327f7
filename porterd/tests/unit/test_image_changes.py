"""`changes` of import and commit: Dockerfile instructions on an image's execution config."""

from __future__ import annotations

import pytest
from porterd.errors import InvalidParameter
from porterd.images.changes import apply_changes


def test_cmd_and_entrypoint_take_the_exec_form() -> None:
    config = apply_changes({}, ['CMD ["sh", "-c", "true"]', 'ENTRYPOINT ["/init"]'])
    assert config == {"Cmd": ["sh", "-c", "true"], "Entrypoint": ["/init"]}


def test_a_shell_form_command_runs_through_bin_sh() -> None:
    assert apply_changes({}, ["CMD echo hi"]) == {"Cmd": ["/bin/sh", "-c", "echo hi"]}


def test_env_replaces_a_key_and_keeps_the_others() -> None:
    config = apply_changes({"Env": ["A=1", "B=2"]}, ['ENV A=3 C="x y"', "ENV D old form"])
    assert config["Env"] == ["B=2", "A=3", "C=x y", "D=old form"]


def test_label_expose_volume_and_the_plain_strings() -> None:
    config = apply_changes(
        {},
        [
            "LABEL a=b",
            "EXPOSE 80 53/udp",
            "VOLUME /data",
            "USER 1000",
            "WORKDIR /srv",
            "STOPSIGNAL SIGTERM",
            "ONBUILD RUN true",
        ],
    )
    assert config == {
        "Labels": {"a": "b"},
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
        "Volumes": {"/data": {}},
        "User": "1000",
        "WorkingDir": "/srv",
        "StopSignal": "SIGTERM",
        "OnBuild": ["RUN true"],
    }


def test_the_changes_do_not_touch_the_config_given() -> None:
    original = {"Env": ["A=1"]}
    apply_changes(original, ["ENV A=2"])
    assert original == {"Env": ["A=1"]}


@pytest.mark.parametrize(
    "change", ["RUN true", "FROM x", "CMD", "EXPOSE http", "LABEL a=b c", "nonsense"]
)
def test_an_instruction_import_cannot_take_is_invalid(change: str) -> None:
    with pytest.raises(InvalidParameter):
        apply_changes({}, [change])


def test_values_are_expanded_with_the_configs_environment() -> None:
    config = apply_changes({"Env": ["BASE=/opt"]}, ["ENV BIN=$BASE/bin", "WORKDIR ${BIN}"])
    assert config["Env"] == ["BASE=/opt", "BIN=/opt/bin"] and config["WorkingDir"] == "/opt/bin"
