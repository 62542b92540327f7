"""LAYOUT:TAG parsing and the config edit rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from porter_image.configure import ConfigEdit, apply_edit, merge_env
from porter_image.errors import ImageRefError
from porter_image.ref import parse_ref


def test_ref_splits_at_the_last_colon() -> None:
    ref = parse_ref("a:b/layout:tag")
    assert ref.layout == Path("a:b/layout") and ref.tag == "tag"


def test_ref_without_tag_is_refused_when_a_tag_is_required() -> None:
    with pytest.raises(ImageRefError, match="no tag given"):
        parse_ref("layout")


def test_ref_tail_with_a_slash_is_part_of_the_path() -> None:
    ref = parse_ref("host:dir/layout", tag_required=False)
    assert ref.layout == Path("host:dir/layout") and ref.tag is None


def test_ref_with_empty_layout_is_refused() -> None:
    with pytest.raises(ImageRefError, match="layout path is empty"):
        parse_ref(":tag")


def test_merge_env_replaces_in_place_and_appends() -> None:
    assert merge_env(["A=1", "B=2"], ("B=3", "C=4")) == ["A=1", "B=3", "C=4"]


def test_apply_edit_keeps_fields_it_does_not_know() -> None:
    config = {"config": {"Healthcheck": {"Test": ["NONE"]}}, "rootfs": {}, "x-extra": 1}
    result = apply_edit(config, ConfigEdit(user="u"), "2024-01-01T00:00:00Z")
    assert result["config"]["Healthcheck"] == {"Test": ["NONE"]} and result["x-extra"] == 1


def test_apply_edit_does_not_modify_its_input() -> None:
    config = {"config": {"Env": ["A=1"]}}
    apply_edit(config, ConfigEdit(env=("A=2",)), "t")
    assert config == {"config": {"Env": ["A=1"]}}


def test_clear_runs_before_additions() -> None:
    config = {"config": {"Labels": {"old": "1"}}}
    edit = ConfigEdit(labels={"new": "2"}, clear=frozenset({"labels"}))
    assert apply_edit(config, edit, "t")["config"]["Labels"] == {"new": "2"}


def test_apply_edit_sets_created_and_history() -> None:
    result = apply_edit({"history": [{"created_by": "x"}]}, ConfigEdit(cmd=("sh",)), "T")
    assert result["created"] == "T"
    assert result["history"][-1] == {
        "created": "T",
        "created_by": "porter-image config --cmd ['sh']",
        "empty_layer": True,
    }
