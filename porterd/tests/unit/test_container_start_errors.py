"""The runtime's refusal of a start read as dockerd reads it: the client's mistakes are 400s
with docker's exit codes (127, 126) and docker's words; anything else is a 500 with 128."""

from __future__ import annotations

import pytest
from porterd.containers.start_errors import classify

WHAT = "cannot start container c1"


@pytest.mark.parametrize(
    ("runtime_line", "code"),
    [
        ('runc create failed: exec: "nope": executable file not found in $PATH', 127),
        ('exec: "/nope": stat /nope: no such file or directory', 127),
        ("porter-runtime: error: executable 'nope': not found in the container (PATH=/bin)", 127),
        ("exec: /etc/passwd: permission denied", 126),
        ("porter-runtime: error: executable '/etc/passwd': permission denied", 126),
        ("porter-runtime: error: executable '/etc': is a directory", 126),
        ("porter-runtime: error: process cwd /etc/passwd: Not a directory", 127),
        ('chdir to cwd ("/etc/passwd") set in config.json failed: not a directory', 127),
    ],
)
def test_a_clients_mistake_is_a_400_with_dockers_exit_code(runtime_line: str, code: int) -> None:
    failure = classify(WHAT, runtime_line)
    assert (failure.error.status, failure.exit_code) == (400, code)


def test_any_other_refusal_is_a_500_with_exit_code_128() -> None:
    failure = classify(WHAT, "porter-runtime: error: cgroup setup failed: Device or resource busy")
    assert (failure.error.status, failure.exit_code) == (500, 128)


def test_porter_runtimes_missing_command_carries_the_words_the_docker_cli_matches() -> None:
    failure = classify(WHAT, "porter-runtime: error: executable 'nope': not found in the container")
    assert "executable file not found" in str(failure.error)


def test_the_answer_names_the_container_and_keeps_the_runtimes_line() -> None:
    failure = classify(WHAT, "exec: /etc/passwd: permission denied")
    assert str(failure.error) == f"{WHAT}: exec: /etc/passwd: permission denied"


def test_the_answer_is_one_line_whatever_the_runtime_printed() -> None:
    failure = classify(WHAT, "container init failed\n  at step 3\n")
    assert str(failure.error) == f"{WHAT}: container init failed at step 3"


def test_an_empty_message_still_says_the_runtime_failed() -> None:
    assert str(classify(WHAT, "").error) == f"{WHAT}: the runtime failed"
