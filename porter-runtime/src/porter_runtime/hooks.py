"""Running the config's hooks: the state on stdin, their own args and env, their timeout."""

from __future__ import annotations

from porter_runtime.errors import HookError

KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")


def run_hooks(kind: str, hooks: list[dict], state_json: str) -> None:
    """Run each hook in order; the first failure raises HookError (for the caller to treat
    as fatal or as a warning, as the spec says for its kind)."""
    for hook in hooks or ():
        run_hook(kind, hook, state_json)


def run_hook(kind: str, hook: dict, state_json: str) -> None:
    """One hook: the state on its stdin; HookError if it cannot run, times out or fails."""
    import subprocess

    path = hook["path"]
    args = hook.get("args") or [path]
    env = dict(e.split("=", 1) for e in hook.get("env") or [] if "=" in e)
    timeout = hook.get("timeout")
    if timeout is not None and timeout <= 0:
        raise HookError(kind, path, "timeout must be greater than zero")
    try:
        result = subprocess.run(
            args,
            executable=path,
            input=state_json.encode(),
            env=env,
            capture_output=True,
            timeout=timeout,
            check=False,
            close_fds=True,
        )
    except subprocess.TimeoutExpired:
        raise HookError(kind, path, f"timed out after {timeout} s") from None
    except OSError as exc:
        raise HookError(kind, path, exc.strerror or str(exc)) from exc
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        why = f"exited with status {result.returncode}"
        raise HookError(kind, path, f"{why}: {detail[-1]}" if detail else why)


def run_warning(kind: str, hooks: list[dict], state_json: str, warn: object) -> None:
    """poststart/poststop: a failing hook is logged as a warning and the remaining hooks and
    the lifecycle continue as if it had succeeded (runtime.md "Lifecycle", steps 9 and 13)."""
    for hook in hooks or ():
        try:
            run_hook(kind, hook, state_json)
        except HookError as exc:
            warn(str(exc))


def hook_state(saved: dict, status: str) -> str:
    """The state a hook reads on its stdin: the container's runtime-spec state, as JSON."""
    from porter_runtime import jsonio, state

    return jsonio.dumps(state.public_state(saved, status))
