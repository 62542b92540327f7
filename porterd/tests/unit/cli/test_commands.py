"""porter as a command against the fake engine: what it asks the daemon, what it prints,
and its exit codes (docker's)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from porter_cli.client.stream import STDERR, STDOUT, frame
from porter_fake_engine import FakeEngine, Reply, Request

CONTAINER = {
    "Id": "0123456789abcdef" * 4,
    "Names": ["/web"],
    "Image": "busybox",
    "Command": "sleep 1000",
    "Created": 0,
    "Status": "Up 2 minutes",
    "State": "running",
    "Ports": [{"PrivatePort": 80, "PublicPort": 8080, "IP": "127.0.0.1", "Type": "tcp"}],
    "Labels": {},
}


def test_ps_prints_dockers_table(engine: FakeEngine, porter) -> None:
    engine.json("GET", "/containers/json", [CONTAINER])
    result = porter("ps")
    assert result.returncode == 0, result.stderr
    header, line = result.stdout.splitlines()
    assert header.split() == [
        "CONTAINER",
        "ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]
    assert line.startswith('0123456789ab   busybox   "sleep 1000"')
    assert "127.0.0.1:8080->80/tcp" in line and line.endswith("web")


def test_ps_all_quiet_asks_for_all_and_prints_ids(engine: FakeEngine, porter) -> None:
    engine.json("GET", "/containers/json", [CONTAINER])
    result = porter("ps", "-aq", "--filter", "status=running")
    assert result.stdout == "0123456789ab\n"
    request = engine.seen("GET", "/containers/json")[0]
    assert request.param("all") == "1"
    assert json.loads(request.param("filters") or "") == {"status": ["running"]}


def test_ps_format_json(engine: FakeEngine, porter) -> None:
    engine.json("GET", "/containers/json", [CONTAINER])
    row = json.loads(porter("ps", "--format", "json").stdout)
    assert (row["Names"], row["State"]) == ("web", "running")


def test_an_error_from_the_daemon_is_one_line_and_exit_1(engine: FakeEngine, porter) -> None:
    engine.json("DELETE", "/containers/gone", {"message": "No such container: gone"}, 404)
    result = porter("rm", "gone")
    assert result.returncode == 1
    assert result.stderr == "porter: Error response from daemon: No such container: gone\n"


def test_rm_removes_every_name_and_reports_the_failures(engine: FakeEngine, porter) -> None:
    engine.json("DELETE", "/containers/a", None, 204)
    engine.json("DELETE", "/containers/b", {"message": "No such container: b"}, 404)
    engine.json("DELETE", "/containers/c", None, 204)
    result = porter("rm", "-f", "a", "b", "c")
    assert (result.returncode, result.stdout) == (1, "a\nc\n")
    assert engine.seen("DELETE", "/containers/a")[0].param("force") == "1"


def test_rm_sends_its_requests_at_once_and_prints_in_the_given_order(
    engine: FakeEngine, porter
) -> None:
    last_arrived = threading.Event()

    def first(request: Request) -> Reply:  # answers only once the last request has come
        if last_arrived.wait(10):
            return Reply(204)
        return Reply(500, {"message": "the requests came one after another"})

    def last(request: Request) -> Reply:
        last_arrived.set()
        return Reply(404, {"message": "No such container: c"})

    engine.route("DELETE", "/containers/a", first)
    engine.json("DELETE", "/containers/b", None, 204)
    engine.route("DELETE", "/containers/c", last)
    result = porter("rm", "a", "b", "c")
    assert (result.returncode, result.stdout) == (1, "a\nb\n")
    assert result.stderr == "porter: Error response from daemon: No such container: c\n"


def test_wait_prints_the_exit_codes_in_the_order_of_the_names(engine: FakeEngine, porter) -> None:
    slow_done = threading.Event()

    def slow(request: Request) -> Reply:
        slow_done.wait(0.5)
        return Reply(200, {"StatusCode": 3})

    engine.route("POST", "/containers/slow/wait", slow)
    engine.json("POST", "/containers/quick/wait", {"StatusCode": 0})
    result = porter("wait", "slow", "quick")
    assert (result.returncode, result.stdout) == (0, "3\n0\n")


def test_rmi_prints_what_each_image_lost_in_the_order_of_the_names(
    engine: FakeEngine, porter
) -> None:
    engine.json("DELETE", "/images/x", [{"Untagged": "x:latest"}, {"Deleted": "sha256:1"}])
    engine.json("DELETE", "/images/y", [{"Untagged": "y:latest"}])
    result = porter("rmi", "x", "y")
    assert (result.returncode, result.stdout) == (
        0,
        "Untagged: x:latest\nDeleted: sha256:1\nUntagged: y:latest\n",
    )


def test_no_daemon_is_one_line_and_exit_1(porter, tmp_path: Path) -> None:
    result = porter("-H", f"unix://{tmp_path}/none.sock", "ps", host=False)
    assert result.returncode == 1
    assert result.stderr.startswith("porter: cannot connect to the daemon at unix://")
    assert len(result.stderr.splitlines()) == 1


def test_a_bad_flag_is_a_usage_error_with_exit_125(porter) -> None:
    result = porter("ps", "--bogus")
    assert result.returncode == 125
    assert result.stderr.startswith("porter: No such option '--bogus'")


def test_an_unknown_command_is_a_usage_error_with_exit_125(porter) -> None:
    assert porter("frobnicate").returncode == 125


def test_porter_host_then_docker_host_name_the_daemon(engine: FakeEngine, porter) -> None:
    engine.json("GET", "/containers/json", [])
    assert porter("ps", host=False, env={"DOCKER_HOST": engine.host}).returncode == 0  # type: ignore[attr-defined]
    result = porter(
        "ps", host=False, env={"PORTER_HOST": engine.host, "DOCKER_HOST": "unix:///nonexistent"}
    )  # type: ignore[attr-defined]
    assert result.returncode == 0, result.stderr


def test_contexts_name_the_daemon_to_use(engine: FakeEngine, porter) -> None:
    engine.json("GET", "/containers/json", [])
    assert porter("context", "create", "fake", "--docker", f"host={engine.host}").returncode == 0  # type: ignore[attr-defined]
    assert porter("context", "use", "fake").returncode == 0
    listing = porter("context", "ls", host=False).stdout
    assert "fake *" in listing
    assert porter("ps", host=False).returncode == 0
    assert len(engine.seen("GET", "/containers/json")) == 1
    assert porter("context", "rm", "fake").returncode == 1  # in use
    assert porter("context", "rm", "-f", "fake").returncode == 0
    assert porter("context", "show", host=False).stdout == "default\n"


def test_a_context_and_a_host_together_are_refused(engine: FakeEngine, porter) -> None:
    result = porter("--context", "x", "ps")
    assert (result.returncode, "either -H or --context" in result.stderr) == (125, True)


def answer_once(event: threading.Event, body: dict[str, object], timeout: float = 10) -> Reply:
    """A wait's answer as dockerd sends it: the headers at once (porter starts the container
    only once they came), the body when `event` is set (the container ended)."""

    def body_at_exit() -> Iterator[bytes]:
        event.wait(timeout)
        yield json.dumps(body).encode()

    return Reply(200, chunks=body_at_exit())  # type: ignore[arg-type]


def _exit_after_output(code: int):  # type: ignore[no-untyped-def]
    """Routes of a container that writes to stdout and stderr, then exits with `code`."""
    exited = threading.Event()

    def attach(sock: socket.socket, _request: Request) -> None:
        sock.sendall(frame(STDOUT, b"to stdout\n") + frame(STDERR, b"to stderr\n"))
        sock.close()
        exited.set()

    def wait(_request: Request) -> Reply:
        return answer_once(exited, {"StatusCode": code, "Error": None})

    return attach, wait


def test_run_pulls_a_missing_image_then_creates_again(engine: FakeEngine, porter) -> None:
    attempts = []

    def create(request: Request) -> Reply:
        attempts.append(request.json())
        if len(attempts) == 1:
            return Reply(404, {"message": "No such image: busybox:latest"})
        return Reply(201, {"Id": "c1", "Warnings": []})

    attach, wait = _exit_after_output(3)
    engine.route("POST", "/containers/create", create)
    engine.route(
        "POST",
        "/images/create",
        lambda r: Reply(
            chunks=[
                b'{"status":"Pulling from library/busybox","id":"latest"}\n',
                b'{"status":"Download complete","id":"abc"}\n',
            ]
        ),
    )
    engine.route("POST", "/containers/c1/attach", lambda r: Reply(hijack=attach))
    engine.route("POST", "/containers/c1/wait", wait)
    engine.json("POST", "/containers/c1/start", None, 204)
    result = porter("run", "--name", "web", "busybox", "echo", "hi")
    assert result.returncode == 3
    assert result.stdout == "to stdout\n"
    assert "Unable to find image 'busybox' locally" in result.stderr
    assert "to stderr" in result.stderr
    assert len(attempts) == 2 and attempts[1]["Cmd"] == ["echo", "hi"]
    pull = engine.seen("POST", "/images/create")[0]
    assert (pull.param("fromImage"), pull.param("tag")) == ("busybox", "latest")
    assert engine.seen("POST", "/containers/c1/wait")[0].param("condition") == "next-exit"
    assert engine.seen("POST", "/containers/create")[0].param("name") == "web"


def test_run_with_pull_never_does_not_pull(engine: FakeEngine, porter) -> None:
    engine.json("POST", "/containers/create", {"message": "No such image: busybox:latest"}, 404)
    result = porter("run", "--pull", "never", "busybox")
    assert result.returncode == 125
    assert not engine.seen("POST", "/images/create")


def test_run_detached_prints_the_id(engine: FakeEngine, porter) -> None:
    engine.json("POST", "/containers/create", {"Id": "c2", "Warnings": ["low memory"]}, 201)
    engine.json("POST", "/containers/c2/start", None, 204)
    result = porter("run", "-d", "busybox")
    assert (result.returncode, result.stdout) == (0, "c2\n")
    assert "WARNING: low memory" in result.stderr


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ('exec: "nope": executable file not found in $PATH', 127),
        ("porter-runtime: error: executable '/nope': not found in the container", 127),
        ("exec: /etc: permission denied", 126),
        ("cgroup setup failed", 125),
    ],
)
def test_a_refused_start_exits_as_docker_does(
    engine: FakeEngine, porter, message: str, code: int
) -> None:
    engine.json("POST", "/containers/create", {"Id": "c3"}, 201)
    engine.json("POST", "/containers/c3/start", {"message": message}, 400)
    attach, wait = _exit_after_output(0)
    engine.route("POST", "/containers/c3/attach", lambda r: Reply(hijack=attach))
    engine.route("POST", "/containers/c3/wait", wait)
    result = porter("run", "busybox", "/nope")
    assert result.returncode == code
    assert result.stderr == f"porter: Error response from daemon: {message}\n"


def test_run_refused_by_the_daemon_exits_125(engine: FakeEngine, porter) -> None:
    engine.json(
        "POST",
        "/containers/create",
        {"message": 'Conflict. The container name "/web" is already in use'},
        409,
    )
    result = porter("run", "--name", "web", "busybox")
    assert result.returncode == 125
    assert result.stderr.count("\n") == 1


def test_run_i_sends_stdin_to_the_container(engine: FakeEngine, porter) -> None:
    received = []
    engine.json("POST", "/containers/create", {"Id": "c5"}, 201)
    engine.json("POST", "/containers/c5/start", None, 204)
    done = threading.Event()

    def attach(sock: socket.socket, _request: Request) -> None:
        data = b""
        while chunk := sock.recv(100):
            data += chunk
        received.append(data)
        sock.sendall(frame(STDOUT, data))
        sock.close()
        done.set()

    engine.route("POST", "/containers/c5/attach", lambda r: Reply(hijack=attach))
    engine.route("POST", "/containers/c5/wait", lambda r: answer_once(done, {"StatusCode": 0}))
    result = porter("run", "-i", "busybox", "cat", input="piped input\n")
    assert (result.returncode, result.stdout, received) == (0, "piped input\n", [b"piped input\n"])
    assert engine.seen("POST", "/containers/c5/attach")[0].param("stdin") == "1"


def test_logs_demultiplexes_without_a_tty(engine: FakeEngine, porter) -> None:
    engine.json("GET", "/containers/web/json", {"Id": "c6", "Config": {"Tty": False}})
    engine.route(
        "GET",
        "/containers/c6/logs",
        lambda r: Reply(chunks=[frame(STDOUT, b"one\n"), frame(STDERR, b"two\n")]),
    )
    result = porter("logs", "--tail", "2", "web")
    assert (result.stdout, result.stderr) == ("one\n", "two\n")
    assert engine.seen("GET", "/containers/c6/logs")[0].param("tail") == "2"


def test_logs_since_and_until_take_durations_times_and_timestamps(
    engine: FakeEngine, porter
) -> None:
    engine.json("GET", "/containers/web/json", {"Id": "c6", "Config": {"Tty": False}})
    engine.route("GET", "/containers/c6/logs", lambda r: Reply(chunks=[]))
    before = time.time()
    result = porter("logs", "--since", "10m", "--until", "2024-01-02T03:04:05.5Z", "web")
    assert result.returncode == 0, result.stderr
    request = engine.seen("GET", "/containers/c6/logs")[0]
    assert before - 600 - 1 < float(request.param("since") or "") < time.time() - 600 + 1
    assert float(request.param("until") or "") == 1704164645.5
    porter("logs", "--since", "1700000000.25", "web")
    assert engine.seen("GET", "/containers/c6/logs")[1].param("since") == "1700000000.25"


@pytest.mark.parametrize("value", ["yesterday", "1q5m"])
def test_a_bad_until_is_reported_under_until(engine: FakeEngine, porter, value: str) -> None:
    result = porter("logs", "--until", value, "web")
    assert result.returncode == 125
    assert "--until" in result.stderr and "--since" not in result.stderr
    assert engine.seen("GET", "/containers/web/json") == []


def test_exec_exits_with_the_commands_code(engine: FakeEngine, porter) -> None:
    engine.json("POST", "/containers/web/exec", {"Id": "e1"}, 201)

    def start(sock: socket.socket, _request: Request) -> None:
        sock.sendall(frame(STDOUT, b"inside\n"))
        sock.close()

    engine.route("POST", "/exec/e1/start", lambda r: Reply(hijack=start))
    engine.json("GET", "/exec/e1/json", {"ExitCode": 7, "Running": False})
    result = porter("exec", "web", "sh", "-c", "exit 7")
    assert (result.returncode, result.stdout) == (7, "inside\n")
    assert engine.seen("POST", "/containers/web/exec")[0].json()["Cmd"] == ["sh", "-c", "exit 7"]


def test_inspect_format_applies_the_template_per_object(engine: FakeEngine, porter) -> None:
    engine.json("GET", "/containers/web/json", {"Name": "/web", "State": {"Status": "running"}})
    engine.json("GET", "/containers/nope/json", {"message": "No such container: nope"}, 404)
    engine.json("GET", "/images/nope/json", {"message": "No such image: nope"}, 404)
    engine.json("GET", "/volumes/nope", {"message": "no such volume"}, 404)
    result = porter("inspect", "-f", "{{.Name}} {{.State.Status}}", "web", "nope")
    assert (result.returncode, result.stdout) == (1, "/web running\n")
    assert result.stderr == "porter: No such object: nope\n"


def test_login_keeps_credentials_that_pull_sends(engine: FakeEngine, porter, porter_env) -> None:
    engine.json("POST", "/auth", {"Status": "Login Succeeded"})
    engine.route(
        "POST",
        "/images/create",
        lambda r: Reply(chunks=[b'{"status":"Status: Image is up to date"}\n']),
    )
    result = porter("login", "-u", "me", "--password-stdin", "reg.example:5000", input="secret\n")
    assert (result.returncode, result.stdout) == (0, "Login Succeeded\n")
    assert engine.seen("POST", "/auth")[0].json()["password"] == "secret"
    assert porter("pull", "reg.example:5000/app:1").returncode == 0
    import base64

    header = engine.seen("POST", "/images/create")[0].headers["x-registry-auth"]
    assert json.loads(base64.urlsafe_b64decode(header))["username"] == "me"
    config = Path(porter_env["PORTER_CONFIG"]) / "config.json"
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    assert porter("logout", "reg.example:5000").stdout.startswith("Removing login credentials")


def test_a_login_without_a_server_is_the_one_a_short_name_pulls_with(
    engine: FakeEngine, porter
) -> None:
    import base64

    engine.json("POST", "/auth", {"Status": "Login Succeeded"})
    engine.route(
        "POST",
        "/images/create",
        lambda r: Reply(chunks=[b'{"status":"Status: Image is up to date"}\n']),
    )
    assert porter("login", "-u", "me", "--password-stdin", input="secret\n").returncode == 0
    assert engine.seen("POST", "/auth")[0].json()["serveraddress"] == "docker.io"
    assert porter("pull", "busybox").returncode == 0
    header = engine.seen("POST", "/images/create")[0].headers["x-registry-auth"]
    assert json.loads(base64.urlsafe_b64decode(header))["serveraddress"] == "docker.io"
    logout = porter("logout")
    assert logout.stdout == "Removing login credentials for docker.io\n"
    assert porter("pull", "busybox").returncode == 0
    header = engine.seen("POST", "/images/create")[1].headers["x-registry-auth"]
    assert json.loads(base64.urlsafe_b64decode(header)) == {}


def test_a_failed_pull_reports_the_streams_error(engine: FakeEngine, porter) -> None:
    engine.route(
        "POST",
        "/images/create",
        lambda r: Reply(
            chunks=[b'{"errorDetail":{"message":"manifest unknown"},"error":"manifest unknown"}\n']
        ),
    )
    result = porter("pull", "busybox:nope")
    assert (result.returncode, result.stderr) == (1, "porter: manifest unknown\n")


def test_images_lists_one_row_per_tag(engine: FakeEngine, porter) -> None:
    engine.json(
        "GET",
        "/images/json",
        [
            {
                "Id": "sha256:" + "ab" * 32,
                "RepoTags": ["a:1", "localhost:5000/b:2"],
                "Created": 0,
                "Size": 1234567,
            }
        ],
    )
    lines = porter(
        "images", "--format", "{{.Repository}} {{.Tag}} {{.ID}} {{.Size}}"
    ).stdout.splitlines()
    assert lines == ["a 1 abababababab 1.235MB", "localhost:5000/b 2 abababababab 1.235MB"]


def test_volume_create_ls_rm(engine: FakeEngine, porter) -> None:
    engine.json("POST", "/volumes/create", {"Name": "data", "Driver": "local"}, 201)
    engine.json(
        "GET", "/volumes", {"Volumes": [{"Name": "data", "Driver": "local"}], "Warnings": None}
    )
    engine.json("DELETE", "/volumes/data", None, 204)
    assert porter("volume", "create", "data", "--label", "a=b").stdout == "data\n"
    assert engine.seen("POST", "/volumes/create")[0].json()["Labels"] == {"a": "b"}
    assert porter("volume", "ls").stdout.splitlines() == ["DRIVER    VOLUME NAME", "local     data"]
    assert porter("volume", "rm", "data").stdout == "data\n"


def test_version_prints_client_and_server(engine: FakeEngine, porter) -> None:
    engine.json(
        "GET",
        "/version",
        {
            "Version": "9.9",
            "ApiVersion": "1.43",
            "MinAPIVersion": "1.24",
            "Os": "linux",
            "Arch": "amd64",
            "KernelVersion": "6",
        },
    )
    result = porter("version", "--format", "{{.Server.Version}} {{.Client.ApiVersion}}")
    assert result.stdout == "9.9 1.43\n"


def test_save_refuses_to_write_to_a_terminal_but_writes_a_file(
    engine: FakeEngine, porter, tmp_path: Path
) -> None:
    engine.route("GET", "/images/get", lambda r: Reply(200, b"tar bytes"))
    assert porter("save", "-o", str(tmp_path / "out.tar"), "a", "b").returncode == 0
    assert (tmp_path / "out.tar").read_bytes() == b"tar bytes"
    assert engine.seen("GET", "/images/get")[0].query["names"] == ["a", "b"]


@pytest.mark.parametrize(("flags", "forwarded"), [((), ["SIGTERM"]), (("--no-sig-proxy",), [])])
def test_signals_to_porter_reach_a_container_without_a_tty(
    engine: FakeEngine, porter_env, flags, forwarded
) -> None:
    import signal
    import subprocess
    import time

    from porter_fake_engine import PORTER

    attached, done = threading.Event(), threading.Event()

    def attach(sock: socket.socket, _request: Request) -> None:
        attached.set()
        done.wait(20)
        sock.close()

    def kill(request: Request) -> Reply:
        done.set()
        return Reply(204)

    engine.json("POST", "/containers/create", {"Id": "c9"}, 201)
    started = threading.Event()
    engine.route("POST", "/containers/c9/start", lambda r: (started.set(), Reply(204))[1])
    engine.route("POST", "/containers/c9/attach", lambda r: Reply(hijack=attach))
    engine.route(
        "POST", "/containers/c9/wait", lambda r: answer_once(done, {"StatusCode": 143}, timeout=20)
    )
    engine.route("POST", "/containers/c9/kill", kill)
    argv = [str(PORTER), "-H", engine.host, "run", *flags, "busybox", "sleep", "60"]  # type: ignore[attr-defined]
    process = subprocess.Popen(
        argv, env=porter_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert attached.wait(20) and started.wait(20)
        time.sleep(0.5)  # porter sets its handlers once the start is answered
        process.send_signal(signal.SIGTERM)
        if forwarded:
            assert process.wait(20) == 143
    finally:
        done.set()
        process.kill()
        process.wait()
    assert [r.param("signal") for r in engine.seen("POST", "/containers/c9/kill")] == forwarded


def test_a_reader_that_goes_away_ends_porter_quietly(engine: FakeEngine, porter_env) -> None:
    import subprocess

    from porter_fake_engine import PORTER

    engine.json("GET", "/containers/json", [CONTAINER] * 20000)  # far more than a pipe holds
    row = "{{.ID}} {{.Command}} {{.Status}} {{.Ports}} {{.Names}}"
    argv = [str(PORTER), "-H", engine.host, "ps", "--format", row]  # type: ignore[attr-defined]
    # unbuffered, Python drops what a write to a closed pipe could not take without an error
    env = {k: v for k, v in porter_env.items() if k != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    assert process.wait(30) == 1
    assert process.stderr.read() == b""


def test_port_lists_the_published_ports(engine: FakeEngine, porter) -> None:
    ports = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "53/udp": None}
    engine.json("GET", "/containers/web/json", {"NetworkSettings": {"Ports": ports}})
    assert porter("port", "web").stdout == "80/tcp -> 127.0.0.1:8080\n"
    assert porter("port", "web", "80").stdout == "127.0.0.1:8080\n"
    missing = porter("port", "web", "53/udp")
    assert (missing.returncode, missing.stderr) == (
        1,
        "porter: no public port '53/udp' published for web\n",
    )


def test_stats_computes_cpu_and_memory_as_docker_does(engine: FakeEngine, porter) -> None:
    stats = {
        "id": "0123456789abcdef", "name": "/web",
        "cpu_stats": {
            "cpu_usage": {"total_usage": 400}, "system_cpu_usage": 2000, "online_cpus": 2,
        },
        "precpu_stats": {"cpu_usage": {"total_usage": 200}, "system_cpu_usage": 1000},
        "memory_stats": {"usage": 3 << 20, "limit": 8 << 20, "stats": {"inactive_file": 1 << 20}},
        "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 2000}},
        "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 4096}]},
        "pids_stats": {"current": 3},
    }  # fmt: skip
    engine.json("GET", "/containers/web/stats", stats)
    result = porter(
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.MemPerc}} {{.NetIO}} {{.BlockIO}} {{.PIDs}}",
        "web",
    )
    assert result.stdout == "web 40.00% 2MiB / 8MiB 25.00% 1kB / 2kB 4.096kB / 0B 3\n"
    assert engine.seen("GET", "/containers/web/stats")[0].param("stream") == "0"


def test_system_df_sums_what_is_reclaimable(engine: FakeEngine, porter) -> None:
    usage = {
        "Images": [{"Size": 1000, "Containers": 1}, {"Size": 3000, "Containers": 0}],
        "Containers": [{"SizeRw": 10, "State": "running"}],
        "Volumes": [{"UsageData": {"Size": 500, "RefCount": 0}}],
    }
    engine.json("GET", "/system/df", usage)
    lines = porter(
        "system",
        "df",
        "--format",
        "{{.Type}}|{{.TotalCount}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}",
    ).stdout.splitlines()
    assert lines == [
        "Images|2|1|4kB|3kB (75%)",
        "Containers|1|1|10B|0B (0%)",
        "Local Volumes|1|0|500B|500B (100%)",
    ]


def test_prune_asks_first_and_reports_what_went(engine: FakeEngine, porter) -> None:
    engine.json("POST", "/containers/prune", {"ContainersDeleted": ["abc"], "SpaceReclaimed": 2000})
    declined = porter("container", "prune", input="n\n")
    assert declined.returncode == 1 and not engine.seen("POST", "/containers/prune")
    result = porter("container", "prune", "-f")
    assert result.stdout == "Deleted Containers:\nabc\n\nTotal reclaimed space: 2kB\n"


def test_a_command_invoked_on_its_own_uses_the_default_options(
    engine: FakeEngine, monkeypatch
) -> None:
    from click.testing import CliRunner
    from porter_cli.container.ls import command as ps

    engine.json("GET", "/containers/json", [CONTAINER])
    monkeypatch.setenv("PORTER_HOST", engine.host)  # type: ignore[attr-defined]
    result = CliRunner().invoke(ps, ["-q"])
    assert (result.exit_code, result.output) == (0, "0123456789ab\n")


def test_service_scale_reads_again_when_the_cluster_moved_the_version(
    engine: FakeEngine, porter
) -> None:
    versions = iter([7, 8])
    engine.route(
        "GET",
        "/services/web",
        lambda _: Reply(200, {"ID": "s1", "Version": {"Index": next(versions)}, "Spec": {}}),
    )
    answers = iter([(409, {"message": "service 'web' changed since it was read"}), (200, {})])
    engine.route("POST", "/services/s1/update", lambda _: Reply(*next(answers)))
    assert porter("service", "scale", "web=3").returncode == 0
    posted = engine.seen("POST", "/services/s1/update")
    assert [r.param("version") for r in posted] == ["7", "8"]
    assert posted[1].json()["Mode"] == {"Replicated": {"Replicas": 3}}


def test_run_starts_the_container_only_once_the_daemon_holds_the_wait(
    engine: FakeEngine, porter
) -> None:
    attach, answer = _exit_after_output(0)
    started_early = []

    def wait(request: Request) -> Reply:
        time.sleep(0.5)  # a daemon slow to take the wait in: a start sent meanwhile would race it
        started_early.append(bool(engine.seen("POST", "/containers/c4/start")))
        return answer(request)

    engine.json("POST", "/containers/create", {"Id": "c4"}, 201)
    engine.route("POST", "/containers/c4/attach", lambda r: Reply(hijack=attach))
    engine.route("POST", "/containers/c4/wait", wait)
    engine.json("POST", "/containers/c4/start", None, 204)
    result = porter("run", "--rm", "busybox", "true")
    assert result.returncode == 0, result.stderr
    assert started_early == [False]
