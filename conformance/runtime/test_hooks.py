"""Hooks (config.md "POSIX-platform Hooks"): when each runs, what it gets on stdin, failures."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

RUNTIME_NS_HOOKS = ("prestart", "createRuntime", "createContainer", "poststart", "poststop")
ALL_HOOKS = (*RUNTIME_NS_HOOKS, "startContainer")
ANNOTATIONS = {"org.example.hooks": "hook stdin test"}


def _record_hook(bundle, kind: str) -> dict:
    """A hook that saves its stdin (the container state) where the test can read it.

    startContainer resolves in the container, so it writes inside the rootfs;
    the others write into the bundle directory on the host (createContainer runs in
    the container's mount namespace, so it falls back to the rootfs if needed).
    """
    if kind == "startContainer":
        return {"path": "/bin/sh", "args": ["sh", "-c", f"cat > /{kind}.json"]}
    target = bundle.path / f"{kind}.json"
    script = f'state=$(cat); echo "$state" > {target} || echo "$state" > /{kind}.json'
    return {"path": str(bundle.rootfs / "bin" / "busybox"), "args": ["sh", "-c", script]}


def _hook_output(bundle, kind: str) -> dict | None:
    for place in (bundle.path / f"{kind}.json", bundle.rootfs / f"{kind}.json"):
        if place.exists() and place.read_text().strip():
            return json.loads(place.read_text())
    return None


def _hooked_bundle(lab, args=("true",)):
    bundle = lab.bundle(list(args))
    bundle.config["annotations"] = dict(ANNOTATIONS)
    bundle.config["hooks"] = {kind: [_record_hook(bundle, kind)] for kind in ALL_HOOKS}
    return bundle


def _run_with_hooks(lab):
    bundle = _hooked_bundle(lab)
    container = lab.container(bundle)
    container.create().check()
    pid = container.state()["pid"]
    container.start().check()
    container.wait("stopped")
    container.delete().check()
    return bundle, container, pid


@pytest.mark.parametrize("kind", ALL_HOOKS)
def test_hook_receives_state_on_stdin(lab, kind):
    bundle, container, pid = _run_with_hooks(lab)
    state = _hook_output(bundle, kind)
    assert state is not None, f"{kind} hook did not run"
    assert state["id"] == container.id
    assert state["bundle"] == str(bundle.path)
    assert state.get("annotations") == ANNOTATIONS
    assert state["ociVersion"]
    if kind in ("createContainer", "startContainer"):
        # runtime.md "State" (v1.1 and later): "For hooks executed in the container namespace,
        # it is the pid as seen by the container" (v1.0 said "as seen by the host"); the bundle
        # has a pid namespace of its own, so the container sees its process as 1.
        assert state["pid"] == 1
    elif kind != "poststop":
        assert state["pid"] == pid


# The state each hook sees: the lifecycle step it belongs to (runtime.md "Lifecycle").
EXPECTED_STATUS = {
    "createRuntime": {"creating"},
    "createContainer": {"creating"},
    "prestart": {"creating", "created"},
    "startContainer": {"created", "running"},
    "poststart": {"running", "stopped"},
    "poststop": {"stopped"},
}


@pytest.mark.parametrize("kind", list(EXPECTED_STATUS))
def test_hook_state_has_lifecycle_status(lab, kind):
    bundle, _, _ = _run_with_hooks(lab)
    assert _hook_output(bundle, kind)["status"] in EXPECTED_STATUS[kind]


def test_create_hooks_run_at_create_only(lab):
    bundle = _hooked_bundle(lab)
    container = lab.container(bundle)
    container.create().check()
    ran = {kind for kind in ALL_HOOKS if _hook_output(bundle, kind) is not None}
    assert ran == {"createRuntime", "createContainer", "prestart"}


def test_start_hooks_run_at_start(lab):
    bundle = _hooked_bundle(lab)
    container = lab.container(bundle)
    container.create().check()
    container.start().check()
    container.wait("stopped")
    assert _hook_output(bundle, "startContainer") is not None
    assert _hook_output(bundle, "poststart") is not None
    assert _hook_output(bundle, "poststop") is None


def test_poststop_hook_runs_at_delete(lab):
    bundle = _hooked_bundle(lab)
    lab.container(bundle).run_to_exit()
    assert _hook_output(bundle, "poststop") is not None


def test_start_container_hook_runs_before_process(lab):
    bundle = _hooked_bundle(lab, ["sh", "-c", "test -e /startContainer.json && touch /saw-hook"])
    lab.container(bundle).run_to_exit()
    assert (bundle.rootfs / "saw-hook").exists()


def test_hook_gets_its_args_and_env(lab):
    bundle = lab.bundle(["true"])
    out = bundle.path / "hook-env"
    script = f'echo "$0 $1 $HOOK_VAR" > {out}; cat > /dev/null'
    busybox = str(bundle.rootfs / "bin" / "busybox")
    hook = {"path": busybox, "args": ["sh", "-c", script, "first", "second"]}
    bundle.config["hooks"] = {"prestart": [{**hook, "env": ["HOOK_VAR=from-config"]}]}
    lab.container(bundle).run_to_exit()
    assert out.read_text() == "first second from-config\n"


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_create_hook_stops_before_process(lab, kind):
    bundle = lab.bundle(["touch", "/output"])
    busybox = str(bundle.rootfs / "bin" / "busybox")
    bundle.config["hooks"] = {kind: [{"path": busybox, "args": ["false"]}]}
    container = lab.container(bundle)
    created = container.create()
    started = container.start() if created.ok else created
    assert not (created.ok and started.ok)
    assert not (bundle.rootfs / "output").exists()
    state = container.try_state()
    assert state is None or state["status"] == "stopped"


def test_hook_timeout_is_an_error(lab):
    bundle = lab.bundle(["touch", "/output"])
    busybox = str(bundle.rootfs / "bin" / "busybox")
    hook = {"path": busybox, "args": ["sleep", "20"], "timeout": 1}
    bundle.config["hooks"] = {"prestart": [hook]}
    container = lab.container(bundle)
    created = container.create()
    started = container.start() if created.ok else created
    assert not (created.ok and started.ok)
    assert not (bundle.rootfs / "output").exists()


def _fail_then_record(bundle, kind: str) -> list[dict]:
    busybox = str(bundle.rootfs / "bin" / "busybox")
    out = bundle.path / f"{kind}-second"
    return [
        {"path": busybox, "args": ["false"]},
        {"path": busybox, "args": ["sh", "-c", f"cat > /dev/null; echo called > {out}"]},
    ]


# runtime.md "Lifecycle" step 9 (v1.0.2 to v1.2.1): "If any poststart hook fails, the runtime
# MUST log a warning, but the remaining hooks and lifecycle continue as if the hook had
# succeeded." runtime-spec v1.3.0 changes this to "generate an error, stop the container".
def test_failing_poststart_hook_does_not_stop_lifecycle(lab):
    bundle = lab.bundle(["true"])
    bundle.config["hooks"] = {"poststart": _fail_then_record(bundle, "poststart")}
    lab.container(bundle).run_to_exit()
    assert (bundle.path / "poststart-second").read_text() == "called\n"


def test_failing_poststop_hook_does_not_stop_delete(lab):
    bundle = lab.bundle(["true"])
    bundle.config["hooks"] = {"poststop": _fail_then_record(bundle, "poststop")}
    container = lab.container(bundle).run_to_exit()
    assert container.try_state() is None
    assert (bundle.path / "poststop-second").read_text() == "called\n"
