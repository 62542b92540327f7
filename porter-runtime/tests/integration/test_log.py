"""--log, --log-format and --debug: records reach the log in runc's shapes (podman reads them)."""

import json
import subprocess

import pytest


@pytest.fixture
def porter_runtime(tmp_path, runtime_binary):
    def call(*args):
        return subprocess.run(
            [runtime_binary, "--root", str(tmp_path / "state"), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    return call


def test_json_log_records_the_error_as_one_object_per_line(tmp_path, porter_runtime):
    log = tmp_path / "runtime.log"
    result = porter_runtime("--log", str(log), "--log-format", "json", "state", "nope")
    assert result.returncode != 0
    (record,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert record["level"] == "error"
    assert record["msg"] == "container 'nope' does not exist"
    assert record["time"].endswith("Z")


def test_text_log_records_the_error_with_level_and_message(tmp_path, porter_runtime):
    log = tmp_path / "runtime.log"
    porter_runtime("--log", str(log), "state", "nope")
    assert "level=error msg=\"container 'nope' does not exist\"" in log.read_text()


def test_debug_logs_the_command_and_the_created_init(tmp_path, runtime, bundle):
    log = tmp_path / "runtime.log"
    bundle.run_args("sleep", "30")
    cid = runtime.new_id()
    result = runtime(
        "--debug", "--log", str(log), "--log-format", "json", "create", "--bundle", str(bundle), cid
    )
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["level"] for r in records] == ["debug", "debug"]
    assert records[0]["msg"] == f"create --bundle {bundle} {cid}"
    assert records[1]["msg"].startswith(f"container {cid}: init ")
    assert "porter-runtime: debug: create" in result.stderr


def test_without_debug_nothing_but_errors_is_logged(tmp_path, porter_runtime):
    log = tmp_path / "runtime.log"
    porter_runtime("--log", str(log), "--log-format", "json", "state", "nope")
    assert [json.loads(line)["level"] for line in log.read_text().splitlines()] == ["error"]


def test_unknown_log_format_is_a_usage_error(porter_runtime):
    result = porter_runtime("--log-format", "xml", "state", "nope")
    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        "porter-runtime: error: --log-format must be text or json, not 'xml'"
    ]
