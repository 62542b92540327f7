"""The command line follows runc's conventions."""

import pytest
from porter_runtime import cli
from porter_runtime.cli.args import FLAG, INT, MULTI, VALUE, Option, parse, parse_bytes
from porter_runtime.commands.kill import parse_signal
from porter_runtime.errors import UsageError

OPTIONS = (
    Option("bundle", ("-b", "--bundle"), VALUE, "."),
    Option("detach", ("-d", "--detach"), FLAG),
    Option("fds", ("--preserve-fds",), INT, 0),
    Option("env", ("-e", "--env"), MULTI),
)


def test_long_short_and_equals_forms():
    assert parse(OPTIONS, ["--bundle", "/b", "x"]).bundle == "/b"
    assert parse(OPTIONS, ["--bundle=/b", "x"]).bundle == "/b"
    assert parse(OPTIONS, ["-b", "/b", "x"]).bundle == "/b"


def test_go_style_single_dash_long_flags():
    assert parse(OPTIONS, ["-bundle", "/b"]).bundle == "/b"


def test_flags_after_positional_arguments():
    parsed = parse(OPTIONS, ["id", "-d"])
    assert parsed.detach and parsed.args == ["id"]


def test_without_interspersing_the_rest_is_the_command():
    parsed = parse(OPTIONS, ["-d", "id", "sh", "-c", "x"], interspersed=False)
    assert parsed.args == ["id", "sh", "-c", "x"]


def test_repeatable_and_integer_flags():
    parsed = parse(OPTIONS, ["-e", "A=1", "-e", "B=2", "--preserve-fds", "2"])
    assert parsed.env == ["A=1", "B=2"] and parsed.fds == 2


def test_unknown_flag_is_a_usage_error():
    with pytest.raises(UsageError, match="unknown flag --nope"):
        parse(OPTIONS, ["--nope"])


def test_non_numeric_integer_is_a_usage_error():
    with pytest.raises(UsageError, match="needs a number"):
        parse(OPTIONS, ["--preserve-fds", "x"])


def test_signals_by_name_and_number():
    assert parse_signal("KILL") == 9
    assert parse_signal("SIGTERM") == 15
    assert parse_signal("9") == 9
    assert parse_signal("SIGRTMIN+2") == 36
    with pytest.raises(UsageError):
        parse_signal("SIGNOPE")


def test_unknown_command_exits_2(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command" in capsys.readouterr().err


def test_every_command_has_help(capsys):
    for name in cli.COMMANDS:
        assert cli.main([name, "--help"]) == 0
        assert f"Usage: porter-runtime {name}" in capsys.readouterr().out


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert "spec: 1.2.0" in capsys.readouterr().out


def test_missing_container_id_is_a_usage_error(capsys):
    assert cli.main(["start"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("porter-runtime: error:") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("raw", "size"),
    [
        ("67108864", 64 << 20),
        ("64M", 64 << 20),
        ("64mb", 64 << 20),
        ("64MiB", 64 << 20),
        ("1g", 1 << 30),
        ("512k", 512 << 10),
        ("1.5G", 3 << 29),
        ("-1", -1),
    ],
)
def test_sizes_take_runc_units(raw, size):
    assert parse_bytes(raw, "--memory") == size


@pytest.mark.parametrize("raw", ["", "M", "64X", "-5", "lots"])
def test_a_bad_size_is_one_usage_error(raw):
    with pytest.raises(UsageError, match="needs a size such as 67108864 or 64M"):
        parse_bytes(raw, "--memory")
