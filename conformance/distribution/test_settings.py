"""The suite reads the official suite's environment variables, with every workflow on by default."""

from __future__ import annotations

import pytest
from distribution_conformance.settings import WORKFLOWS, Settings, SettingsError


def test_unset_toggles_run_every_workflow():
    assert Settings.from_environ({}).workflows == frozenset(WORKFLOWS)


def test_a_false_toggle_skips_its_workflow():
    settings = Settings.from_environ({"OCI_TEST_PUSH": "0", "OCI_TEST_PULL": "true"})
    assert "push" not in settings.workflows and "pull" in settings.workflows


def test_root_url_loses_its_trailing_slash():
    assert Settings.from_environ({"OCI_ROOT_URL": "http://h:5000/"}).root_url == "http://h:5000"


def test_a_toggle_that_is_not_a_boolean_is_an_error_naming_the_variable():
    with pytest.raises(SettingsError, match="OCI_DEBUG='maybe'"):
        Settings.from_environ({"OCI_DEBUG": "maybe"})


def test_automatic_crossmount_is_unknown_unless_set():
    assert Settings.from_environ({}).automatic_crossmount is None
    assert Settings.from_environ({"OCI_AUTOMATIC_CROSSMOUNT": "1"}).automatic_crossmount is True
