"""Every usage error is one line on stderr naming the --help to read, with exit code 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result
from porter_image.cli.main import cli


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="porter-image")


def assert_one_usage_line(result: Result, what: str, command: str) -> None:
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"porter-image: error: {what} (see 'porter-image{command} --help')"
    ]


def test_an_unknown_option_is_one_line() -> None:
    result = run("unpack", "--bogus", "l:t", "dir")
    assert_one_usage_line(result, "no such option '--bogus'", " unpack")


def test_an_unknown_option_of_the_group_is_one_line() -> None:
    assert_one_usage_line(run("--bogus"), "no such option '--bogus'", "")


def test_a_missing_argument_is_one_line() -> None:
    assert_one_usage_line(run("unpack", "l:t"), "missing argument 'DIR'", " unpack")


def test_a_bad_choice_value_is_one_line() -> None:
    result = run("inspect", "--format", "xml", "l:t")
    what = "invalid value for '--format': 'xml' is not one of 'text', 'json'"
    assert_one_usage_line(result, what, " inspect")


def test_a_reference_without_tag_is_one_line() -> None:
    result = run("unpack", "layout", "dir")
    what = "invalid value for 'LAYOUT:TAG': image 'layout': expected LAYOUT:TAG (no tag given)"
    assert_one_usage_line(result, what, " unpack")


def test_an_unknown_command_is_one_line() -> None:
    assert_one_usage_line(run("frobnicate"), "no such command 'frobnicate'", "")


def test_an_extra_argument_is_one_line() -> None:
    result = run("list", "layout", "extra")
    assert_one_usage_line(result, "got unexpected extra argument (extra)", " list")


def test_a_bad_value_found_while_running_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    result = run("import", "--reproducible", "/nonexistent-tree", "l:t")
    what = "invalid value: SOURCE_DATE_EPOCH='yesterday' is not an integer"
    assert_one_usage_line(result, what, " import")


def test_help_and_version_still_print_normally() -> None:
    assert run("unpack", "--help").exit_code == 0
    assert "Usage: porter-image unpack" in run("unpack", "-h").stdout
    assert run("--version").exit_code == 0
