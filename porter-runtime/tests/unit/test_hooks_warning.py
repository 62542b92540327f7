"""poststart and poststop hooks: a failure is a warning and the remaining hooks still run."""

import pytest
from porter_runtime.errors import HookError
from porter_runtime.hooks import run_hooks, run_warning


def _hooks(tmp_path):
    record = f"cat > {tmp_path / 'second'}"
    return [{"path": "/bin/false"}, {"path": "/bin/sh", "args": ["sh", "-c", record]}]


def test_failing_hook_is_a_warning_and_the_remaining_hooks_run(tmp_path):
    warnings: list[str] = []
    run_warning("poststop", _hooks(tmp_path), '{"id": "c1"}', warnings.append)
    assert len(warnings) == 1 and "/bin/false" in warnings[0]
    assert (tmp_path / "second").read_text() == '{"id": "c1"}'


def test_every_failing_hook_gets_its_own_warning():
    warnings: list[str] = []
    run_warning("poststart", [{"path": "/bin/false"}] * 2, "{}", warnings.append)
    assert len(warnings) == 2


def test_create_hooks_stop_at_the_first_failure(tmp_path):
    with pytest.raises(HookError):
        run_hooks("prestart", _hooks(tmp_path), "{}")
    assert not (tmp_path / "second").exists()
