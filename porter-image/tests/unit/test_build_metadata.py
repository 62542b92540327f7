"""Config values the builder writes: Go durations, exposed ports, healthchecks, RUN argv."""

from __future__ import annotations

import pytest
from porter_image.build.metadata import command_args, healthcheck, parse_duration, port_keys
from porter_image.build.run_step import run_argv
from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.lines import Heredoc

SHELL = ("/bin/sh", "-c")


@pytest.mark.parametrize(
    ("text", "ns"),
    [("30s", 30 * 10**9), ("1m30s", 90 * 10**9), ("500ms", 5 * 10**8), ("1.5h", 5400 * 10**9)],
)
def test_durations_as_go_parses_them(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", ["", "30", "s", "1x", "1s junk"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_ports_default_to_tcp_and_ranges_expand() -> None:
    assert port_keys("80") == ["80/tcp"]
    assert port_keys("53/UDP") == ["53/udp"]
    assert port_keys("8000-8002") == ["8000/tcp", "8001/tcp", "8002/tcp"]


@pytest.mark.parametrize("port", ["0", "70000", "x", "80/icmp", "9-1"])
def test_bad_ports_are_refused(port: str) -> None:
    with pytest.raises(ValueError):
        port_keys(port)


def test_shell_form_runs_through_the_shell() -> None:
    assert command_args(ins.ShellForm("echo hi"), SHELL) == ["/bin/sh", "-c", "echo hi"]
    assert command_args(ins.ExecForm(("a", "b")), SHELL) == ["a", "b"]


def test_healthcheck_forms() -> None:
    shell = ins.Healthcheck(1, ins.ShellForm("true"), timeout="3s")
    assert healthcheck(shell, SHELL) == {"Test": ["CMD-SHELL", "true"], "Timeout": 3 * 10**9}
    assert healthcheck(ins.Healthcheck(1, ins.ExecForm(("x",))), SHELL) == {"Test": ["CMD", "x"]}
    assert healthcheck(ins.Healthcheck(1, None), SHELL) == {"Test": ["NONE"]}


def test_a_run_of_only_a_heredoc_runs_its_body() -> None:
    run = ins.Run(1, ins.ShellForm("<<EOF"), heredocs=(Heredoc("EOF", "echo a\n", True),))
    assert run_argv(run, SHELL) == ["/bin/sh", "-c", "echo a\n"]


def test_a_command_with_a_heredoc_gets_the_body_as_its_here_document() -> None:
    run = ins.Run(1, ins.ShellForm("cat <<EOF > /f"), heredocs=(Heredoc("EOF", "x\n", True),))
    assert run_argv(run, SHELL) == ["/bin/sh", "-c", "cat <<EOF > /f\nx\nEOF"]


def test_a_heredoc_script_with_a_shebang_is_run_as_a_file() -> None:
    run = ins.Run(1, ins.ShellForm("<<EOF"), heredocs=(Heredoc("EOF", "#!/bin/sh\nx\n", True),))
    assert run_argv(run, SHELL) == ["/dev/pipes/EOF"]
