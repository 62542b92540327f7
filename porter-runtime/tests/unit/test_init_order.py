"""The order of the init's first messages: the runtime learns B's pid before B says anything.

Stage A forks B and then reports B's pid; both write to the same channel. If B could speak
first (a busy host deschedules A between fork and send), create would take B's "ready"
before any pid and save the container with pid 0: `state` then says stopped, `start`
refuses, and B waits on the exec fifo for ever.
"""

import os
import time

import pytest
from porter_runtime import init, launch, sync
from porter_runtime import syscalls as sc
from porter_runtime.errors import ContainerSetupError


class _SlowPid:
    """The child end of the channel, with stage A's "pid" held back a while."""

    def __init__(self, chan: sync.Channel) -> None:
        self.chan = chan

    def send(self, kind: str, **fields: object) -> None:
        if kind == "pid":
            time.sleep(0.3)
        self.chan.send(kind, **fields)

    def expect(self, kind: str) -> dict:
        return self.chan.expect(kind)


def _ready_at_once(_spec: object, chan: object, _calls: object) -> None:
    chan.send("ready")
    os._exit(0)


def _run_stage_a(chan: sync.Channel) -> None:
    """A child subreaper runs stage A (with a stub stage B) and reaps both stages."""
    try:
        sc.real().prctl(sc.PR_SET_CHILD_SUBREAPER, 1)
        if os.fork() == 0:
            init._stage_b = _ready_at_once
            init._stage_a(init.InitSpec({}, None), _SlowPid(chan))
        chan.close()
        while True:
            os.wait()
    except ChildProcessError:
        os._exit(0)
    finally:
        os._exit(1)


def test_stage_b_speaks_only_after_stage_a_sent_its_pid():
    parent, child = sync.pair()
    harness = os.fork()
    if harness == 0:  # pragma: no cover - child
        parent.close()
        _run_stage_a(child)
    child.close()
    try:
        kinds = []
        while (message := parent.recv(10_000)) is not None:
            kinds.append(message["type"])
    finally:
        parent.close()
        _, status = os.waitpid(harness, 0)
    assert kinds == ["pid", "ready"]
    assert os.waitstatus_to_exitcode(status) == 0


@pytest.mark.parametrize("kind", ["mounted", "seccomp", "ready"])
def test_a_message_before_the_pid_fails_create(kind):
    parent, child = sync.pair()
    try:
        child.send(kind)
        spec = init.InitSpec({}, {"args": ["true"]})
        with pytest.raises(ContainerSetupError, match=f"sent '{kind}' before its pid"):
            launch._drive(spec, {"pid": 0}, launch.Undo(None), parent, 0)
    finally:
        parent.close()
        child.close()


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer", "startContainer"])
def test_the_init_stops_after_its_mounts_for_a_hook_that_runs_then_or_needs_the_state(kind):
    assert init.stops_for_hooks({"hooks": {kind: [{"path": "/bin/true"}]}})


@pytest.mark.parametrize(
    "hooks", [None, {}, {"prestart": []}, {"poststart": [{"path": "/bin/true"}]}]
)
def test_the_init_goes_on_without_stopping_when_no_such_hook_is_configured(hooks):
    assert not init.stops_for_hooks({"hooks": hooks})
