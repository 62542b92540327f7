"""The command line: help, and one clear error line with a non-zero exit for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from porter_registry.cli import main


@pytest.mark.parametrize("args", [["--help"], ["serve", "--help"], ["gc", "--help"]])
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert "Usage:" in result.output


def _error_line(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env)
    lines = [line for line in result.output.splitlines() if line.strip()]
    return result.exit_code, lines[-1] if lines else ""


def test_serve_without_data_folder_fails_with_one_line() -> None:
    code, line = _error_line(["serve", "--listen", "127.0.0.1:0"], env={"PORTER_REGISTRY_DATA": ""})
    assert code == 2
    assert line.startswith("porter-registry: no data folder")


def test_serve_with_bad_listen_address_fails(tmp_path: Path) -> None:
    code, line = _error_line(["serve", "--listen", "localhost", "--data", str(tmp_path)])
    assert code == 2
    assert "expected HOST:PORT" in line


def test_serve_with_tls_cert_but_no_key_fails(tmp_path: Path) -> None:
    code, line = _error_line(
        ["serve", "--data", str(tmp_path), "--listen", "127.0.0.1:0", "--tls-cert", "c.pem"]
    )
    assert code == 2
    assert "both a certificate and a key" in line


def test_serve_with_unloadable_certificate_fails(tmp_path: Path) -> None:
    (tmp_path / "c.pem").write_text("not a cert")
    args = ["serve", "--data", str(tmp_path), "--listen", "127.0.0.1:0"]
    args += ["--tls-cert", str(tmp_path / "c.pem"), "--tls-key", str(tmp_path / "c.pem")]
    code, line = _error_line(args)
    assert code == 2
    assert "tls: cannot load certificate" in line


def test_env_overrides_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "r.toml"
    config.write_text('listen = "127.0.0.1:0"\nlog_level = "loud"\n')
    code, line = _error_line(
        ["serve", "--config", str(config), "--data", str(tmp_path)],
        env={"PORTER_REGISTRY_LOG_LEVEL": "nonsense"},
    )
    assert code == 2  # click refuses the env value before the file's bad one is read
    assert "nonsense" in line


def test_gc_on_missing_data_folder_fails(tmp_path: Path) -> None:
    code, line = _error_line(["gc", "--data", str(tmp_path / "missing")])
    assert code == 2
    assert "not a folder" in line


def test_gc_dry_run_on_empty_registry_reports_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["gc", "--data", str(tmp_path), "--dry-run"])
    assert result.exit_code == 0
    assert "would delete 0 manifests, 0 blobs" in result.output
