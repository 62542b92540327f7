"""Containers under a real porterd (in a network namespace of the test's own), driven by
docker-py and the Debian docker CLI: run, logs, exec, attach with and without a terminal,
cp, wait, stop, restart policies, and the crash cases: porterd killed with containers
running, a container's conmon killed, a container's process killed."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import Container

sys.path.insert(0, str(Path(__file__).resolve().parent))
from containers_support import (
    DOCKER_CLI,
    IMAGE,
    Terminal,
    client_for,
    docker_cli,
    needs_containers,
    needs_docker_cli,
    porterd_with_busybox,
    until,
)
from porterd_process import PorterdProcess, running_porterd

pytestmark = [pytest.mark.integration, needs_containers]
NONE = {"network_mode": "none"}


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def started(client: docker.DockerClient, command: list[str], **options: Any) -> Iterator[Container]:
    """A running busybox container without a network, removed afterwards, even on failure."""
    container = client.containers.run(IMAGE, command, detach=True, **NONE, **options)
    try:
        yield container
    finally:
        container.remove(force=True)


@contextlib.contextmanager
def sleeping_under_cli(porterd: PorterdProcess, prefix: str) -> Iterator[str]:
    """The name of a container the docker CLI started (sleeping, no network), removed after."""
    wanted = name(prefix)
    run = docker_cli(
        porterd, "run", "-d", "--name", wanted, "--network", "none", IMAGE, "sleep", "60"
    )
    assert run.returncode == 0, run.stderr
    try:
        yield wanted
    finally:
        docker_cli(porterd, "rm", "-f", wanted)


def test_docker_py_runs_a_container_and_reads_its_exit_code_and_logs(
    client: docker.DockerClient,
) -> None:
    with started(client, ["sh", "-c", "echo out; echo err >&2; exit 3"]) as container:
        assert container.wait()["StatusCode"] == 3
        assert container.logs(stdout=True, stderr=False) == b"out\n"
        assert container.logs(stdout=False, stderr=True) == b"err\n"
        container.reload()
        assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 3


def test_logs_on_disk_are_docker_json_file_lines(client: docker.DockerClient) -> None:
    with started(client, ["echo", "hello"]) as container:
        container.wait()
        lines = Path(container.attrs["LogPath"]).read_text().splitlines()
        entry = json.loads(lines[0])
        assert entry["log"] == "hello\n" and entry["stream"] == "stdout"
        assert entry["time"].endswith("Z")


def test_logs_follow_tail_and_timestamps(client: docker.DockerClient) -> None:
    script = "for i in 1 2 3; do echo line $i; sleep 0.2; done"
    with started(client, ["sh", "-c", script]) as container:
        followed = b"".join(container.logs(stream=True, follow=True))
        assert followed == b"line 1\nline 2\nline 3\n"
        assert container.logs(tail=1) == b"line 3\n"
        stamped = container.logs(timestamps=True).decode().splitlines()
        assert stamped[0].split(" ", 1)[1] == "line 1" and stamped[0][:4].isdigit()


def test_a_generated_name_is_adjective_and_surname(client: docker.DockerClient) -> None:
    container = client.containers.create(IMAGE, ["true"], **NONE)
    try:
        adjective, _, surname = container.name.partition("_")
        assert adjective.isalpha() and surname.rstrip("0123456789").isalpha()
        assert len(container.id) == 64
    finally:
        container.remove()


def test_a_name_in_use_is_a_conflict(client: docker.DockerClient) -> None:
    wanted = name("dup")
    container = client.containers.create(IMAGE, ["true"], name=wanted, **NONE)
    try:
        with pytest.raises(docker.errors.APIError) as caught:
            client.containers.create(IMAGE, ["true"], name=wanted, **NONE)
        assert caught.value.status_code == 409
    finally:
        container.remove()


def test_an_unknown_container_is_not_found(client: docker.DockerClient) -> None:
    with pytest.raises(docker.errors.NotFound):
        client.containers.get("no-such-container")


def test_exec_runs_in_the_container_with_its_exit_code(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        result = container.exec_run(["sh", "-c", "echo in $(hostname); exit 4"])
        assert result.exit_code == 4
        assert result.output == f"in {container.id[:12]}\n".encode()
        container.reload()
        assert container.status == "running"  # the exec's end is not the container's


def test_exec_with_a_terminal_is_resized(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        exec_id = client.api.exec_create(
            container.id, ["sh", "-c", "sleep 0.5; stty size"], tty=True
        )["Id"]
        sock = client.api.exec_start(exec_id, tty=True, socket=True)
        client.api.exec_resize(exec_id, height=20, width=70)
        sock._sock.settimeout(10)
        output = b""
        while chunk := sock._sock.recv(4096):
            output += chunk
        assert output == b"20 70\r\n"
        assert client.api.exec_inspect(exec_id)["ExitCode"] == 0


def test_stop_kills_a_container_that_ignores_sigterm_after_the_timeout(
    client: docker.DockerClient,
) -> None:
    with started(client, ["sh", "-c", "trap '' TERM; sleep 60 & wait"]) as container:
        container.stop(timeout=1)
        container.reload()
        assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 137


def test_stop_with_timeout_minus_one_waits_for_the_exit_and_kills_nothing(
    client: docker.DockerClient,
) -> None:
    with started(client, ["sh", "-c", "trap 'sleep 1; exit 3' TERM; sleep 60 & wait"]) as container:
        container.stop(timeout=-1)
        container.reload()
        assert container.status == "exited" and container.attrs["State"]["ExitCode"] == 3


def test_pause_and_unpause(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        container.pause()
        container.reload()
        assert container.status == "paused"
        container.unpause()
        container.reload()
        assert container.status == "running"


def test_removing_a_running_container_needs_force(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        with pytest.raises(docker.errors.APIError) as caught:
            container.remove()
        assert caught.value.status_code == 409
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(container.id)


def test_on_failure_restarts_up_to_its_count(client: docker.DockerClient) -> None:
    with started(
        client,
        ["sh", "-c", "echo run; exit 1"],
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 2},
    ) as container:

        def settled() -> bool:
            container.reload()
            return container.attrs["RestartCount"] == 2 and container.status == "exited"

        until(settled)
        assert container.logs() == b"run\nrun\nrun\n"


def test_a_killed_container_process_is_exited_137_and_always_restarts(
    client: docker.DockerClient,
) -> None:
    with started(client, ["sleep", "60"], restart_policy={"Name": "always"}) as container:
        container.reload()
        first = container.attrs["State"]["Pid"]
        assert first > 0
        os.kill(first, signal.SIGKILL)

        def restarted() -> bool:
            container.reload()
            state = container.attrs["State"]
            return (
                container.attrs["RestartCount"] == 1 and state["Running"] and state["Pid"] != first
            )

        until(restarted)


def test_a_killed_conmon_leaves_the_container_exited_137(
    client: docker.DockerClient, porterd: PorterdProcess
) -> None:
    with started(client, ["sleep", "60"]) as container:
        pidfile = porterd.workdir / "exec" / "containers" / container.id / "conmon.pid"
        conmon = int(pidfile.read_text())
        assert conmon > 0
        os.kill(conmon, signal.SIGKILL)

        def exited() -> bool:
            container.reload()
            return container.status == "exited"

        until(exited)
        assert container.attrs["State"]["ExitCode"] == 137


def test_wait_for_removal(client: docker.DockerClient) -> None:
    container = client.containers.run(
        IMAGE, ["sleep", "0.5"], detach=True, auto_remove=True, **NONE
    )
    assert client.api.wait(container.id, condition="removed")["StatusCode"] == 0
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(container.id)


@needs_docker_cli
def test_docker_cli_run_prints_and_returns_the_exit_code(porterd: PorterdProcess) -> None:
    result = docker_cli(
        porterd, "run", "--rm", "--network", "none", IMAGE, "sh", "-c", "echo hi; exit 7"
    )
    assert (result.returncode, result.stdout) == (7, "hi\n")


@needs_docker_cli
def test_docker_cli_run_with_stdin(porterd: PorterdProcess) -> None:
    result = docker_cli(
        porterd, "run", "-i", "--rm", "--network", "none", IMAGE, "cat", input="piped\n"
    )
    assert (result.returncode, result.stdout) == (0, "piped\n")


@needs_docker_cli
def test_docker_cli_run_with_a_terminal(porterd: PorterdProcess) -> None:
    terminal = Terminal(
        [str(DOCKER_CLI), "-H", porterd.url, "run", "-it", "--rm", "--network", "none", IMAGE,
         "sh", "-c", "tty; read x; echo got $x; exit 5"],
    )  # fmt: skip
    assert b"/dev/pts/0" in terminal.read_until(b"/dev/pts/0")
    terminal.type(b"word\r")
    assert b"got word" in terminal.read_until(b"got word")
    assert terminal.wait() == 5


@needs_docker_cli
def test_docker_cli_detaches_with_ctrl_p_ctrl_q_and_attaches_again(porterd: PorterdProcess) -> None:
    wanted = name("detach")
    terminal = Terminal(
        [str(DOCKER_CLI), "-H", porterd.url, "run", "-it", "--name", wanted, "--network", "none",
         IMAGE, "sh"],
    )  # fmt: skip
    try:
        terminal.read_until(b"/ # ")  # typed earlier, ctrl-q would be the terminal's XON
        terminal.type(b"echo first\r")
        terminal.read_until(b"first\r\n")
        terminal.type(b"\x10\x11")
        assert terminal.wait() == 0
        state = docker_cli(porterd, "inspect", "-f", "{{.State.Status}}", wanted)
        assert state.stdout.strip() == "running"
        again = Terminal([str(DOCKER_CLI), "-H", porterd.url, "attach", wanted])
        time.sleep(1)  # attach has no prompt to wait for: the shell printed it already
        again.type(b"echo second; exit 6\r")
        assert b"second" in again.read_until(b"second\r\n")
        assert again.wait() == 6
    finally:
        docker_cli(porterd, "rm", "-f", wanted)


@needs_docker_cli
def test_docker_cli_exec_with_a_terminal(porterd: PorterdProcess) -> None:
    with sleeping_under_cli(porterd, "exec") as wanted:
        terminal = Terminal(
            [str(DOCKER_CLI), "-H", porterd.url, "exec", "-it", wanted, "sh", "-c", "tty; exit 3"]
        )
        assert b"/dev/pts/" in terminal.read_until(b"/dev/pts/")
        assert terminal.wait() == 3


@needs_docker_cli
def test_docker_cli_cp_into_and_out_of_a_container(porterd: PorterdProcess, tmp_path: Path) -> None:
    with sleeping_under_cli(porterd, "cp") as wanted:
        source = tmp_path / "in.txt"
        source.write_text("payload\n")
        assert docker_cli(porterd, "cp", str(source), f"{wanted}:/tmp/").returncode == 0
        assert docker_cli(porterd, "exec", wanted, "cat", "/tmp/in.txt").stdout == "payload\n"
        out = tmp_path / "out"
        out.mkdir()
        assert docker_cli(porterd, "cp", f"{wanted}:/etc/passwd", str(out)).returncode == 0
        assert (out / "passwd").read_text().startswith("root:x:0:0:")
        changes = docker_cli(porterd, "diff", wanted).stdout.splitlines()
        assert "A /tmp/in.txt" in changes


def test_containers_survive_a_killed_porterd(tmp_path: Path, busybox_rootfs: Path) -> None:
    workdir = tmp_path / "porterd"
    with porterd_with_busybox(workdir, busybox_rootfs) as porterd:
        client = client_for(porterd)
        ticker = client.containers.run(
            IMAGE, ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"],
            detach=True, **NONE,
        )  # fmt: skip
        short = client.containers.run(IMAGE, ["sh", "-c", "sleep 1; exit 9"], detach=True, **NONE)
        retried = client.containers.run(
            IMAGE, ["sh", "-c", "sleep 1; exit 1"], detach=True,
            restart_policy={"Name": "on-failure", "MaximumRetryCount": 1}, **NONE,
        )  # fmt: skip
        client.close()
        porterd.process.kill()  # kill -9: no clean-up of any kind
        porterd.process.wait()
        time.sleep(2)  # `short` and `retried` exit while porterd is down
        with running_porterd(workdir) as again:
            client = client_for(again)
            try:
                assert client.containers.get(ticker.id).status == "running"
                assert client.containers.get(short.id).attrs["State"]["ExitCode"] == 9

                def restarted() -> bool:
                    return client.containers.get(retried.id).attrs["RestartCount"] == 1

                until(restarted)
                logs = client.containers.get(ticker.id).logs().decode().splitlines()
                assert logs[:3] == ["tick 0", "tick 1", "tick 2"]
                numbers = [int(line.split()[1]) for line in logs]
                assert numbers == list(range(len(numbers)))  # nothing lost across the restart
                sock = client.api.attach_socket(ticker.id, params={"stdout": 1, "stream": 1})
                sock._sock.settimeout(10)
                assert b"tick" in sock._sock.recv(4096)
                sock.close()
            finally:
                for container in client.containers.list(all=True):
                    container.remove(force=True)
                client.close()


def test_commit_makes_an_image_with_the_container_changes(client: docker.DockerClient) -> None:
    script = "echo made > /root/new.txt; rm /etc/group; mkdir -p /opt/d && echo x > /opt/d/f"
    container = client.containers.run(IMAGE, ["sh", "-c", script], detach=True, **NONE)
    repository = name("committed")
    try:
        container.wait()
        image = container.commit(repository, "v1", changes=["ENV MARK=committed"])
        check = "cat /root/new.txt; test -e /etc/group || echo gone; echo $MARK"
        output = client.containers.run(image.id, ["sh", "-c", check], remove=True, **NONE)
        assert output == b"made\ngone\ncommitted\n"
        assert f"{repository}:v1" in client.images.get(image.id).tags
    finally:
        container.remove(force=True)


def test_a_health_check_turns_unhealthy_then_healthy(client: docker.DockerClient) -> None:
    healthcheck = {
        "Test": ["CMD-SHELL", "test -e /tmp/ok"],
        "Interval": 200_000_000,
        "Timeout": 5_000_000_000,
        "Retries": 2,
    }
    with started(client, ["sleep", "60"], healthcheck=healthcheck) as container:

        def health() -> str:
            container.reload()
            return container.attrs["State"].get("Health", {}).get("Status", "")

        until(lambda: health() == "unhealthy")
        listed = client.api.containers(filters={"id": container.id})
        assert listed[0]["Status"].endswith("(unhealthy)")
        container.exec_run(["touch", "/tmp/ok"])
        until(lambda: health() == "healthy")
        assert container.attrs["State"]["Health"]["Log"][-1]["ExitCode"] == 0


def test_an_image_volume_gets_an_anonymous_volume_seeded_from_the_image(
    client: docker.DockerClient,
) -> None:
    maker = client.containers.run(
        IMAGE, ["sh", "-c", "mkdir /data && echo seed > /data/file"], detach=True, **NONE
    )
    try:
        maker.wait()
        image = maker.commit(name("withvolume"), "v1", changes=["VOLUME /data"])
        user = client.containers.run(image.id, ["sh", "-c", "cat /data/file"], detach=True, **NONE)
        try:
            assert user.wait()["StatusCode"] == 0
            assert user.logs() == b"seed\n"
            mount = user.attrs["Mounts"][0]
            assert (mount["Type"], mount["Destination"]) == ("volume", "/data")
        finally:
            user.remove(force=True, v=True)
        with pytest.raises(docker.errors.NotFound):  # rm -v took the anonymous volume along
            client.volumes.get(mount["Name"])
    finally:
        maker.remove(force=True)


def test_top_and_stats_of_a_running_container(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        top = container.top()
        assert "PID" in top["Titles"]
        assert any("sleep 60" in " ".join(row) for row in top["Processes"])
        stats = container.stats(stream=False)
        assert stats["pids_stats"]["current"] >= 1
        assert stats["memory_stats"]["usage"] > 0
        assert stats["cpu_stats"]["cpu_usage"]["total_usage"] > 0


def test_twenty_running_containers_survive_a_killed_porterd(
    tmp_path: Path, busybox_rootfs: Path
) -> None:
    workdir = tmp_path / "porterd"
    script = "i=0; while true; do echo $i; i=$((i+1)); sleep 0.2; done"
    with porterd_with_busybox(workdir, busybox_rootfs) as porterd:
        client = client_for(porterd)
        ids = [
            client.containers.run(IMAGE, ["sh", "-c", script], detach=True, **NONE).id
            for _ in range(20)
        ]
        client.close()
        porterd.process.kill()
        porterd.process.wait()
        with running_porterd(workdir) as again:
            client = client_for(again)
            try:
                running = {c.id for c in client.containers.list()}
                assert running == set(ids)
                for container_id in ids:
                    lines = client.containers.get(container_id).logs().split()
                    assert [int(n) for n in lines] == list(range(len(lines)))
            finally:
                for container in client.containers.list(all=True):
                    container.remove(force=True)
                client.close()


def test_an_unknown_user_fails_the_start_with_a_clear_400(client: docker.DockerClient) -> None:
    container = client.containers.create(IMAGE, ["true"], user="nosuchuser", **NONE)
    try:
        with pytest.raises(docker.errors.APIError) as caught:
            container.start()
        assert caught.value.status_code == 400
        assert "nosuchuser" in str(caught.value.explanation)
    finally:
        container.remove(force=True)


@needs_docker_cli
def test_docker_cli_run_with_a_terminal_has_its_size(porterd: PorterdProcess) -> None:
    # the CLI sends the window's size at create (ConsoleSize) or resizes right after start
    terminal = Terminal(
        [str(DOCKER_CLI), "-H", porterd.url, "run", "-it", "--rm", "--network", "none", IMAGE,
         "sh", "-c", "sleep 0.5; stty size"],
        rows=30, columns=100,
    )  # fmt: skip
    assert b"30 100" in terminal.read_until(b"30 100")
    assert terminal.wait() == 0


def test_export_streams_the_container_filesystem(client: docker.DockerClient) -> None:
    with started(client, ["sh", "-c", "echo x > /exported"]) as container:
        container.wait()
        data = b"".join(container.export())
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            names = {name.lstrip("./") for name in archive.getnames()}
        assert {"bin/busybox", "exported"} <= names


def test_update_changes_the_limits_of_a_running_container(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        container.update(mem_limit="64m", restart_policy={"Name": "always"})
        container.reload()
        assert container.attrs["HostConfig"]["Memory"] == 64 * 1024 * 1024
        assert container.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
        assert container.stats(stream=False)["memory_stats"]["limit"] == 64 * 1024 * 1024


def test_a_stopped_container_is_not_restarted_by_always(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"], restart_policy={"Name": "always"}) as container:
        container.stop(timeout=1)
        time.sleep(1)
        container.reload()
        assert container.status == "exited" and container.attrs["RestartCount"] == 0


def test_exec_as_another_user_of_the_image(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        result = container.exec_run(["id", "-u"], user="nobody")
        assert (result.exit_code, result.output) == (0, b"65534\n")


def test_the_life_cycle_is_published_as_events(client: docker.DockerClient) -> None:
    since = time.time()
    container = client.containers.run(IMAGE, ["true"], detach=True, **NONE)
    container.wait()
    container.remove()
    events = client.events(
        since=since, until=time.time() + 1, decode=True, filters={"container": container.id}
    )
    actions = [event["Action"] for event in events]
    assert actions[:2] == ["create", "start"] and actions[-2:] == ["die", "destroy"]


def test_exec_of_a_missing_program_says_so_with_127(client: docker.DockerClient) -> None:
    with started(client, ["sleep", "60"]) as container:
        result = container.exec_run(["no-such-program"])
        assert result.exit_code in (126, 127)
        assert b"no-such-program" in result.output


def test_a_new_porterd_starts_always_but_not_unless_stopped_containers_stopped_by_hand(
    tmp_path: Path, busybox_rootfs: Path
) -> None:
    workdir = tmp_path / "porterd"
    with porterd_with_busybox(workdir, busybox_rootfs) as porterd:
        client = client_for(porterd)
        always = client.containers.run(
            IMAGE, ["sleep", "60"], detach=True, restart_policy={"Name": "always"}, **NONE
        )
        unless = client.containers.run(
            IMAGE, ["sleep", "60"], detach=True, restart_policy={"Name": "unless-stopped"}, **NONE
        )
        always.stop(timeout=1)
        unless.stop(timeout=1)
        client.close()
        assert porterd.stop() == 0  # SIGTERM: containers stay under conmon
        with running_porterd(workdir) as again:
            client = client_for(again)
            try:
                until(lambda: client.containers.get(always.id).status == "running")
                assert client.containers.get(unless.id).status == "exited"
            finally:
                for container in client.containers.list(all=True):
                    container.remove(force=True)
                client.close()


def test_a_container_over_its_memory_limit_is_oom_killed(client: docker.DockerClient) -> None:
    with started(client, ["tail", "/dev/zero"], mem_limit="16m") as container:
        assert container.wait(timeout=60)["StatusCode"] == 137
        container.reload()
        assert container.attrs["State"]["OOMKilled"] is True
