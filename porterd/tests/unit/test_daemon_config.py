"""porterd's flags, daemon.json and their rules; the data-root lock and the pid file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from porterd.cli import config_from_args
from porterd.config import DEFAULT_HOST, ConfigError
from porterd.runfiles import AlreadyRunning, DataRootLock, remove_pidfile, write_pidfile
from porterd.server import ListenerError


def test_defaults_are_dockerds_with_porters_paths(tmp_path: Path) -> None:
    config = config_from_args(["--config-file", str(_file(tmp_path, {}))])
    assert config.data_root == Path("/var/lib/porter")
    assert config.exec_root == Path("/run/porter")
    assert config.listen == (DEFAULT_HOST,)
    assert config.pid_path == Path("/run/porter/porterd.pid")
    assert config.default_runtime == "porter-runtime"


def test_flags_fill_the_configuration(tmp_path: Path) -> None:
    config = config_from_args(
        [
            "--data-root", str(tmp_path / "data"),
            "--exec-root", str(tmp_path / "run"),
            "-H", f"unix://{tmp_path}/a.sock",
            "--host", f"unix://{tmp_path}/b.sock",
            "--add-runtime", "crun=/usr/bin/crun",
            "--default-runtime", "crun",
            "--registry-mirror", "https://mirror.example",
            "--insecure-registry", "localhost:5000",
            "--log-level", "debug",
            "--pidfile", str(tmp_path / "p.pid"),
        ]
    )  # fmt: skip
    assert config.data_root == tmp_path / "data"
    assert config.listen == (f"unix://{tmp_path}/a.sock", f"unix://{tmp_path}/b.sock")
    assert config.runtimes == {"crun": "/usr/bin/crun"}
    assert config.default_runtime == "crun"
    assert config.registry_mirrors == ("https://mirror.example",)
    assert config.insecure_registries == ("localhost:5000",)
    assert config.log_level == "debug"
    assert config.pid_path == tmp_path / "p.pid"


def _file(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "daemon.json"
    path.write_text(json.dumps(document))
    return path


def test_the_config_file_uses_dockerds_keys(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        {
            "data-root": str(tmp_path / "d"),
            "runtimes": {"runc": {"path": "/usr/bin/runc"}},
            "insecure-registries": ["127.0.0.1:5000"],
            "log-level": "warn",
        },
    )
    config = config_from_args(["--config-file", str(path)])
    assert config.data_root == tmp_path / "d"
    assert config.runtimes == {"runc": "/usr/bin/runc"}
    assert config.insecure_registries == ("127.0.0.1:5000",)
    assert config.log_level == "warn"


def test_a_setting_in_both_the_file_and_a_flag_is_refused(tmp_path: Path) -> None:
    path = _file(tmp_path, {"data-root": "/srv/a"})
    with pytest.raises(ConfigError, match="specified both as a flag and in the configuration"):
        config_from_args(["--config-file", str(path), "--data-root", "/srv/b"])


def test_an_unknown_key_of_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="don't match any configuration option: colour"):
        config_from_args(["--config-file", str(_file(tmp_path, {"colour": "blue"}))])


@pytest.mark.parametrize(
    ("document", "message"),
    [({"hosts": "unix:///x"}, "'hosts' must be a list of strings"), ([], "a JSON object")],
)
def test_a_malformed_file_is_one_error(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_args(["--config-file", str(_file(tmp_path, document))])


def test_a_missing_named_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unable to read the configuration file"):
        config_from_args(["--config-file", str(tmp_path / "absent.json")])


def test_tcp_without_tlsverify_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="without --tlsverify"):
        config_from_args(["--config-file", str(_file(tmp_path, {})), "-H", "tcp://0.0.0.0:2376"])


@pytest.mark.parametrize("host", ["unix://run/porterd.sock", "tcp://nohost", "fd://3"])
def test_a_malformed_host_is_refused_before_anything_starts(tmp_path: Path, host: str) -> None:
    with pytest.raises(ListenerError, match=re.escape(host)):
        config_from_args(["--config-file", str(_file(tmp_path, {})), "-H", host])


def test_tlsverify_needs_all_three_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs --tlscacert, --tlscert and --tlskey"):
        config_from_args(["--config-file", str(_file(tmp_path, {})), "--tlsverify"])


def test_a_bad_add_runtime_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected NAME=PATH"):
        config_from_args(["--config-file", str(_file(tmp_path, {})), "--add-runtime", "crun"])


def test_porterd_reports_a_bad_flag_value_in_one_line_and_exits_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "porterd.cli", "--config-file", str(tmp_path / "absent.json")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("porterd: unable to read the configuration file")


def test_a_data_root_that_cannot_be_made_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "porterd.cli", "--config-file", str(_file(tmp_path, {})),
         "--data-root", str(tmp_path / "file" / "data"), "--exec-root", str(tmp_path / "run"),
         "-H", f"unix://{tmp_path}/sock"],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == f"porterd: {tmp_path / 'file' / 'data'}: Not a directory\n"


def test_a_second_lock_on_one_data_root_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, pathlib; from porterd.runfiles import DataRootLock;"
         f" DataRootLock(pathlib.Path({str(tmp_path)!r})); print('held', flush=True);"
         " sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(AlreadyRunning, match=f"another porterd \\(pid {holder.pid}\\)"):
            DataRootLock(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    DataRootLock(tmp_path).release()  # the lock died with its holder


def test_a_pidfile_naming_a_live_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "porterd.pid"
    path.write_text(f"{os.getppid()}\n")
    with pytest.raises(AlreadyRunning, match="pid file found"):
        write_pidfile(path)


def test_a_stale_pidfile_is_replaced_and_removed_on_exit(tmp_path: Path) -> None:
    path = tmp_path / "porterd.pid"
    path.write_text("999999999\n")
    write_pidfile(path)
    assert path.read_text() == f"{os.getpid()}\n"
    remove_pidfile(path)
    assert not path.exists()
