"""linux.resources go into the cgroup once the init has made its device nodes, as runc does:
the init says so ("devices") and goes on, the runtime writes them meanwhile; only an init
that opens a terminal's pty next waits until they are written."""

import pytest
from porter_runtime import init, launch, sync

DEVICES = [{"allow": False, "access": "rwm"}]


class FakeCgroup:
    path = "/porter-runtime/c1"

    def __init__(self, log: list) -> None:
        self.log = log

    def set(self, resources: dict) -> None:
        self.log.append(("set", resources))


class Recorder:
    def __init__(self, answers: tuple[str, ...] = ()) -> None:
        self.sent: list[tuple[str, dict]] = []
        self.answers = list(answers)
        self.expected: list[str] = []

    def send(self, kind: str, **fields: object) -> None:
        self.sent.append((kind, fields))

    def expect(self, kind: str) -> dict:
        self.expected.append(kind)
        return {"type": self.answers.pop(0)}


def _spec(resources: dict | None, terminal: bool = False, cgroup: object = None) -> init.InitSpec:
    spec = init.InitSpec(
        {"linux": {"resources": resources}}, {"args": ["true"], "terminal": terminal}
    )
    spec.cgroup = cgroup
    return spec


def test_create_works_out_the_resources_with_the_default_device_rules_before_the_fork():
    spec = _spec({"devices": DEVICES}, cgroup=FakeCgroup([]))
    resources = launch._resources(spec)
    assert resources["devices"][0] == DEVICES[0]
    assert len(resources["devices"]) > 1  # runc's allows of /dev/null and the others follow


@pytest.mark.parametrize("resources", [None, {}])
def test_there_are_no_resources_to_write_without_linux_resources(resources):
    assert launch._resources(_spec(resources, cgroup=FakeCgroup([]))) is None


def test_there_are_no_resources_to_write_without_a_cgroup():
    assert launch._resources(_spec({"pids": {"limit": 5}})) is None


def test_the_runtime_writes_the_resources_when_the_init_says_its_devices_exist():
    log: list = []
    spec = _spec({"pids": {"limit": 5}}, cgroup=FakeCgroup(log))
    parent, child = sync.pair()
    try:
        child.send("devices", wait=False)
        child.send("ready")
        launch._drive(spec, {"pid": 42}, launch.Undo(None), parent, 42, {"pids": {"limit": 5}})
    finally:
        parent.close()
        child.close()
    assert log == [("set", {"pids": {"limit": 5}})]


def test_the_runtime_answers_an_init_that_waits_for_the_resources():
    log: list = []
    spec = _spec({"pids": {"limit": 5}}, terminal=True, cgroup=FakeCgroup(log))
    parent, child = sync.pair()
    try:
        child.send("devices", wait=True)
        child.send("ready")
        launch._drive(spec, {"pid": 42}, launch.Undo(None), parent, 42, {"pids": {"limit": 5}})
        assert child.expect("resources-set")["type"] == "resources-set"
    finally:
        parent.close()
        child.close()
    assert log == [("set", {"pids": {"limit": 5}})]


def test_an_init_with_resources_says_its_devices_exist_and_goes_on():
    chan = Recorder()
    init.devices_made(_spec({"pids": {"limit": 5}}, cgroup=FakeCgroup([])), chan)
    assert chan.sent == [("devices", {"wait": False})]
    assert chan.expected == []


def test_an_init_with_a_terminal_waits_until_the_resources_are_written():
    chan = Recorder(answers=("resources-set",))
    init.devices_made(_spec({"pids": {"limit": 5}}, terminal=True, cgroup=FakeCgroup([])), chan)
    assert chan.sent == [("devices", {"wait": True})]
    assert chan.expected == ["resources-set"]


@pytest.mark.parametrize(
    ("resources", "cgroup"), [(None, FakeCgroup([])), ({"pids": {"limit": 5}}, None)]
)
def test_an_init_without_resources_to_write_says_nothing(resources, cgroup):
    chan = Recorder()
    init.devices_made(_spec(resources, cgroup=cgroup), chan)
    assert chan.sent == []
