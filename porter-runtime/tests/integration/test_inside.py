"""What a process sees from inside its container, checked with busybox."""

import contextlib
import os


def run_in(runtime, bundle, *args, check=True):
    cid = runtime.new_id()
    bundle.run_args(*args)
    result = runtime("run", "--bundle", str(bundle), cid, check=check)
    return result


def test_hostname_is_set(runtime, bundle):
    bundle.config["hostname"] = "inside-host"
    assert run_in(runtime, bundle, "hostname").stdout.strip() == "inside-host"


def test_user_and_groups_are_applied(runtime, bundle):
    bundle.config["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [5, 6]}
    out = run_in(runtime, bundle, "id").stdout
    assert "uid=1000" in out and "gid=1001" in out and "groups=5,6" in out.replace("(", ",")


def test_process_is_pid_1_and_sees_no_host_processes(runtime, bundle):
    out = run_in(runtime, bundle, "ps", "-o", "pid").stdout.split()
    assert out[1] == "1" and len(out) <= 3


def test_only_the_configured_capabilities_are_held(runtime, bundle):
    out = run_in(runtime, bundle, "grep", "Cap", "/proc/self/status").stdout
    caps = dict(line.split(":\t") for line in out.strip().splitlines())
    expected = (1 << 29) | (1 << 5) | (1 << 10)  # AUDIT_WRITE, KILL, NET_BIND_SERVICE
    assert int(caps["CapEff"], 16) == expected
    assert int(caps["CapBnd"], 16) == expected
    assert int(caps["CapPrm"], 16) == expected


def test_no_new_privileges_is_set(runtime, bundle):
    out = run_in(runtime, bundle, "grep", "NoNewPrivs", "/proc/self/status").stdout
    assert out.split()[-1] == "1"


def test_host_mounts_are_not_visible(runtime, bundle):
    out = run_in(runtime, bundle, "cat", "/proc/self/mountinfo").stdout
    points = [line.split()[4] for line in out.splitlines()]
    assert "/" in points
    assert not [p for p in points if p.startswith(("/tmp/", "/work", "/home", "/run/"))]


def test_default_devices_and_symlinks_exist(runtime, bundle):
    out = run_in(runtime, bundle, "ls", "/dev").stdout.split()
    for name in (
        "null",
        "zero",
        "full",
        "random",
        "urandom",
        "tty",
        "ptmx",
        "fd",
        "stdin",
        "pts",
        "shm",
        "mqueue",
    ):
        assert name in out


def test_read_only_root_cannot_be_written(runtime, bundle):
    bundle.config["root"]["readonly"] = True
    result = run_in(runtime, bundle, "touch", "/should-fail", check=False)
    assert result.returncode != 0 and "Read-only file system" in result.stderr


def test_masked_path_reads_empty(runtime, bundle):
    out = run_in(runtime, bundle, "cat", "/proc/kcore", check=False)
    assert out.stdout == ""


def test_readonly_path_cannot_be_written(runtime, bundle):
    result = run_in(
        runtime, bundle, "sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid", check=False
    )
    assert result.returncode != 0


def test_rlimits_are_applied(runtime, bundle):
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]
    assert run_in(runtime, bundle, "sh", "-c", "ulimit -n").stdout.strip() == "123"


def test_environment_and_cwd(runtime, bundle):
    bundle.config["process"]["env"] = ["FOO=bar", "PATH=/bin"]
    bundle.config["process"]["cwd"] = "/tmp"
    out = run_in(runtime, bundle, "sh", "-c", "echo $FOO $HOME; pwd").stdout.split()
    assert out == ["bar", "/root", "/tmp"]


def test_sysctl_is_written_in_the_container_namespace(runtime, bundle):
    bundle.config["linux"]["sysctl"] = {"kernel.shmmni": "1234"}
    out = run_in(runtime, bundle, "cat", "/proc/sys/kernel/shmmni").stdout
    assert out.strip() == "1234"
    with open("/proc/sys/kernel/shmmni") as f:
        assert f.read().strip() != "1234"


def test_oom_score_adj_is_applied(runtime, bundle):
    bundle.config["process"]["oomScoreAdj"] = 500
    assert run_in(runtime, bundle, "cat", "/proc/self/oom_score_adj").stdout.strip() == "500"


def test_bind_mount_with_ro_is_read_only(runtime, bundle, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "f").write_text("hello")
    bundle.config["mounts"].append(
        {"destination": "/data", "source": str(shared), "options": ["bind", "ro"]}
    )
    result = run_in(runtime, bundle, "sh", "-c", "cat /data/f; touch /data/g", check=False)
    assert result.stdout == "hello" and "Read-only" in result.stderr


def test_mount_destination_through_a_symlink_stays_in_the_rootfs(runtime, bundle, tmp_path):
    host_target = tmp_path / "host-target"
    host_target.mkdir()
    rootfs = tmp_path / "own-rootfs"
    import shutil

    shutil.copytree(bundle.path / "rootfs", rootfs, symlinks=True)
    (bundle.path / "rootfs").unlink()
    os.symlink(rootfs, bundle.path / "rootfs")
    os.symlink(str(host_target), rootfs / "escape")
    bundle.config["mounts"].append({"destination": "/escape/x", "type": "tmpfs", "source": "tmpfs"})
    run_in(runtime, bundle, "true")
    assert not (host_target / "x").exists()
    assert (rootfs / str(host_target).lstrip("/") / "x").is_dir()


def test_preserved_descriptors_reach_the_container(runtime, bundle, tmp_path):
    data = tmp_path / "fd-data"
    data.write_text("through fd 3")
    cid = runtime.new_id()
    bundle.run_args("cat", "/proc/self/fd/3")
    fd = os.open(data, os.O_RDONLY)
    with descriptor_at_3(fd):
        result = runtime("run", "--preserve-fds", "1", "--bundle", str(bundle), cid, pass_fds=(3,))
    assert result.stdout == "through fd 3"


@contextlib.contextmanager
def descriptor_at_3(fd):
    """`fd` as descriptor 3 for a while (then closed), and whatever this process had at 3
    put back: a plain dup2 would replace a descriptor that pytest or a fixture still uses."""
    saved, inheritable = -1, False  # fd is 3: 3 was free
    if fd != 3:
        with contextlib.suppress(OSError):  # raises when 3 is free
            saved, inheritable = os.dup(3), os.get_inheritable(3)
        os.dup2(fd, 3, inheritable=True)
        os.close(fd)
    try:
        yield
    finally:
        if saved >= 0:
            os.dup2(saved, 3, inheritable=inheritable)
            os.close(saved)
        else:
            os.close(3)


def test_other_descriptors_do_not_reach_the_container(runtime, bundle, tmp_path):
    cid = runtime.new_id()
    bundle.run_args("ls", "/proc/self/fd")
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        result = runtime("run", "--bundle", str(bundle), cid, pass_fds=(fd,))
    finally:
        os.close(fd)
    assert sorted(result.stdout.split()) == ["0", "1", "2", "3"]  # 3: ls's own directory
