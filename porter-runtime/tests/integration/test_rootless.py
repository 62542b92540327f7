"""Rootless: porter-runtime run by an unprivileged user, with the `spec --rootless` config (a
user namespace mapping only that user's uid and gid, no cgroup, binds for /sys and devices).

The user runs the porter-runtime installed from Porter's wheel in a folder every user can
reach (the session's `installed_porter`): the dev venv may lie in a checkout other users cannot
enter, such as root's 0700 home.

A system user is created for the module and removed afterwards; every container process it
saw is killed through a pidfd (never by a bare pid: pids wrap around here within minutes, so a
pid remembered until the end of the module may name someone else's process by then) and its
state directories are removed, even when a test fails."""

import glob
import json
import os
import pwd
import secrets
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from host_features import missing_file, missing_program, skip_unless

from .conftest import APPLETS, BUSYBOX, run_to_files


class User:
    def __init__(self, name, runtime):
        entry = pwd.getpwnam(name)
        self.name, self.uid, self.gid = name, entry.pw_uid, entry.pw_gid
        self.runtime = runtime  # the porter-runtime command this user runs
        self.home = tempfile.mkdtemp(prefix=f"porter-rootless-{name}-")
        os.chmod(self.home, 0o755)
        os.chown(self.home, self.uid, self.gid)
        self.pidfds = []  # pidfds of container processes: what teardown kills

    def run(self, *args, cwd=None, check=True, env=None, runtime=None):
        """porter-runtime (or another `runtime` command) as this user, with an environment of
        its own (output through files: a created container holds the runtime's stdio open)."""
        result = run_to_files(
            [runtime or self.runtime, *args],
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            env={"PATH": "/usr/bin:/bin", "HOME": self.home, **(env or {})},
            cwd=cwd or self.home,
            timeout=30,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"porter-runtime {' '.join(args)}: {result.stderr}")
        return result

    @property
    def default_root(self):
        return f"/tmp/porter-runtime-{self.uid}"


@pytest.fixture(scope="module")
def user(installed_porter, missing_user_namespace):
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root to create an unprivileged user")
    name = f"ptrl{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    made = None
    try:
        made = User(name, str(installed_porter.command("porter-runtime")))
        skip_unless(missing_user_namespace(made.uid, made.gid))
        yield made
    finally:
        if made is not None:
            for pidfd in made.pidfds:
                try:  # noqa: SIM105
                    signal.pidfd_send_signal(pidfd, signal.SIGKILL)
                except ProcessLookupError:  # already gone (a pidfd never names another process)
                    pass
                os.close(pidfd)
            shutil.rmtree(made.home, ignore_errors=True)
            shutil.rmtree(made.default_root, ignore_errors=True)
        subprocess.run(["userdel", name], check=False, capture_output=True)


@pytest.fixture
def closed_install(installed_porter):
    """Porter's wheel installed again in a venv every user can enter, for a test to close."""
    base = tempfile.mkdtemp(prefix="porter-closed-", dir="/tmp")
    try:
        os.chmod(base, 0o755)
        yield installed_porter.install_alone(Path(base) / "venv")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def assert_refused_naming(user, install, folder):
    """`install`'s porter-runtime, run by `user`, fails with the one line naming `folder`."""
    result = user.run("--version", check=False, runtime=str(install.command("porter-runtime")))
    assert result.returncode == 1 and result.stdout == "", result
    assert result.stderr == (
        f"porter-runtime: error: cannot read Porter's package: {folder}: permission denied "
        f"to uid {user.uid} (install Porter where this user can read it)\n"
    )


@pytest.mark.parametrize("closed", ["porter_runtime", "site-packages"])
def test_package_the_user_cannot_read_is_one_clear_line(user, closed_install, closed):
    """The interpreter and the command are reachable, the package is not: one line names the
    folder. (Where the command or its interpreter is out of reach, the kernel refuses to start
    it, and the caller sees only EACCES.)"""
    site_packages = closed_install.site_packages()
    folder = site_packages / "porter_runtime" if closed == "porter_runtime" else site_packages
    folder.chmod(0o700)
    assert_refused_naming(user, closed_install, folder)


def test_package_a_pth_file_points_into_a_closed_folder_is_one_clear_line(user, closed_install):
    """As an editable install in a 0700 checkout: site-packages names the source folder in a
    .pth file, which site leaves out for a user who cannot reach it; the line names the folder
    that user cannot enter."""
    site_packages = closed_install.site_packages()
    checkout = site_packages.parents[3] / "checkout"  # beside the venv, in its base folder
    (checkout / "src").mkdir(parents=True)
    shutil.move(site_packages / "porter_runtime", checkout / "src" / "porter_runtime")
    (site_packages / "porter-src.pth").write_text(f"{checkout / 'src'}\n")
    checkout.chmod(0o700)
    assert_refused_naming(user, closed_install, checkout)


@pytest.fixture
def rootless_bundle(user):
    """A busybox bundle owned by the user, with the config `spec --rootless` writes."""
    skip_unless(missing_file(BUSYBOX, "busybox-static"))
    bundle = os.path.join(user.home, f"bundle-{uuid.uuid4().hex[:8]}")
    rootfs = os.path.join(bundle, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.mkdir(os.path.join(rootfs, d))
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    for path in [bundle, *(os.path.join(r, n) for r, ds, fs in os.walk(bundle) for n in ds + fs)]:
        os.chown(path, user.uid, user.gid, follow_symlinks=False)
    user.run("spec", "--rootless", cwd=bundle)
    return bundle


def set_process(bundle, *args):
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        config = json.load(f)
    config["process"]["terminal"] = False
    config["process"]["args"] = list(args)
    with open(path, "w") as f:
        json.dump(config, f)
    return config


def test_rootless_container_is_root_inside(user, rootless_bundle):
    set_process(rootless_bundle, "sh", "-c", "id -u; id -g")
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    result = user.run("--root", root, "run", "--bundle", rootless_bundle, cid)
    assert result.stdout.split() == ["0", "0"]
    assert not os.path.exists(os.path.join(root, cid))


def test_rootless_container_runs_as_the_user_outside(user, rootless_bundle):
    set_process(rootless_bundle, "sleep", "30")
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    user.run("--root", root, "create", "--bundle", rootless_bundle, cid)
    try:
        pid = json.loads(user.run("--root", root, "state", cid).stdout)["pid"]
        pidfd = os.pidfd_open(pid)  # the created init waits for start: this is still it
        user.pidfds.append(pidfd)
        with open(f"/proc/{pid}/status") as f:
            ids = {line.split(":")[0]: line.split()[1:] for line in f if ":" in line}
        assert ids["Uid"] == [str(user.uid)] * 4 and ids["Gid"] == [str(user.gid)] * 4
        user.run("--root", root, "start", cid)
        assert user.run("--root", root, "exec", cid, "id", "-u").stdout.strip() == "0"
    finally:
        user.run("--root", root, "delete", "--force", cid, check=False)
    assert not alive(pidfd)


def alive(pidfd):
    """Still running: a pidfd turns readable once its process has exited (a zombie too, as
    this host's pid 1 does not reap orphans). /proc/<pid> could show a newer process that
    reused the pid."""
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    return not poller.poll(0)


def test_rootless_default_root_is_the_users_own(user, rootless_bundle):
    set_process(rootless_bundle, "true")
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    user.run("run", "--bundle", rootless_bundle, "--keep", cid)
    try:
        info = os.stat(user.default_root)
        assert (info.st_uid, info.st_mode & 0o777) == (user.uid, 0o700)
        assert os.path.isdir(os.path.join(user.default_root, cid))
    finally:
        user.run("delete", "--force", cid, check=False)


def test_rootless_default_root_follows_xdg_runtime_dir(user, rootless_bundle):
    set_process(rootless_bundle, "true")
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    xdg = os.path.join(user.home, "xdg")
    os.mkdir(xdg, 0o700)
    os.chown(xdg, user.uid, user.gid)
    env = {"XDG_RUNTIME_DIR": xdg}
    user.run("run", "--bundle", rootless_bundle, "--keep", cid, env=env)
    try:
        assert os.path.isdir(os.path.join(xdg, "porter-runtime", cid))
    finally:
        user.run("delete", "--force", cid, check=False, env=env)


def test_rootless_resources_without_a_cgroup_are_a_clear_error(user, rootless_bundle):
    config = set_process(rootless_bundle, "true")
    config["linux"]["resources"] = {"pids": {"limit": 10}}
    with open(os.path.join(rootless_bundle, "config.json"), "w") as f:
        json.dump(config, f)
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    result = user.run("--root", root, "create", "--bundle", rootless_bundle, cid, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "linux.resources" in lines[0] and "may not create cgroup" in lines[0]
    assert not os.path.exists(os.path.join(root, cid))


# Rootless with subordinate ids: the maps go through newuidmap and newgidmap (package uidmap),
# which allow the ranges /etc/subuid and /etc/subgid grant the user.

SUBIDS = 65536  # the size of each granted range, as useradd grants them


class Grant:
    """One line appended to /etc/subuid or /etc/subgid, taken back by `undo`: the file's
    original bytes, or (should another process have changed the file meanwhile) that file
    without our line."""

    def __init__(self, path, line):
        self.path, self.line = path, line.encode()
        try:
            with open(path, "rb") as f:
                self.original = f.read()
        except FileNotFoundError:
            self.original = None
        before = self.original or b""
        self.written = before + (b"\n" if before and not before.endswith(b"\n") else b"")
        self.written += self.line
        self._write(self.written)

    def undo(self):
        with open(self.path, "rb") as f:
            current = f.read()
        if current == self.written:
            if self.original is None:
                os.unlink(self.path)
            else:
                self._write(self.original)
        else:
            self._write(current.replace(self.line, b"", 1))

    def _write(self, data):
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


@pytest.fixture
def subids(user):
    """The first host id of the ranges granted to the user in /etc/subuid and /etc/subgid
    (SUBIDS of each, at a random start); both files are restored afterwards."""
    skip_unless(missing_program("newuidmap") or missing_program("newgidmap"))
    start = 1_000_000 + secrets.randbelow(10_000) * SUBIDS
    grants = []
    try:
        for path in ("/etc/subuid", "/etc/subgid"):
            grants.append(Grant(path, f"{user.name}:{start}:{SUBIDS}\n"))
        skip_unless(missing_granted_maps(user, start))
        yield start
    finally:
        for grant in reversed(grants):
            grant.undo()


def missing_granted_maps(user, start):
    """Why newuidmap and newgidmap do not map the range granted at `start` for the user (no
    file capability or setuid bit on them, a nosuid mount, a refusing security module), or
    None: tried on a user namespace the user makes for the purpose."""
    holder = subprocess.Popen(
        ["unshare", "--user", "sh", "-c", "read line"],
        stdin=subprocess.PIPE,
        user=user.uid,
        group=user.gid,
        extra_groups=[],
    )
    try:
        outer = os.readlink("/proc/self/ns/user")
        while holder.poll() is None and os.readlink(f"/proc/{holder.pid}/ns/user") == outer:
            time.sleep(0.005)  # until unshare has made the namespace
        if holder.returncode is not None:
            return f"uid {user.uid} may not create a user namespace here"
        for tool, own in (("newuidmap", user.uid), ("newgidmap", user.gid)):
            mapped = subprocess.run(
                [tool, str(holder.pid), "0", str(own), "1", "1", str(start), "1"],
                user=user.uid,
                group=user.gid,
                extra_groups=[],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if mapped.returncode != 0:
                return f"{tool} does not map a granted range here: {mapped.stderr.strip()}"
        return None
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def map_subids(bundle, user, start, *args):
    """Container root to the user, container ids 1..SUBIDS to the range at `start`."""
    config = set_process(bundle, *args)
    for key, own in (("uidMappings", user.uid), ("gidMappings", user.gid)):
        config["linux"][key] = [
            {"containerID": 0, "hostID": own, "size": 1},
            {"containerID": 1, "hostID": start, "size": SUBIDS},
        ]
    save_config(bundle, config)
    return config


def save_config(bundle, config):
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(config, f)


def live_processes_of(uid):
    """Pids of the processes running as host uid `uid`, zombies aside (this host's pid 1
    does not reap orphans)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except (FileNotFoundError, ProcessLookupError):  # gone meanwhile
            continue
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(int(entry))
    return found


def assert_nothing_left(user, root, cid, bundle):
    assert not os.path.exists(os.path.join(root, cid))
    assert live_processes_of(user.uid) == []
    assert glob.glob(f"/sys/fs/cgroup/*/porter-runtime/{cid}") == []
    assert not os.path.exists(f"/sys/fs/cgroup/porter-runtime/{cid}")
    with open("/proc/self/mountinfo") as f:
        assert bundle not in f.read()


def test_subordinate_ranges_map_inside_the_container(user, rootless_bundle, subids):
    map_subids(
        rootless_bundle, user, subids, "sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map"
    )
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    out = user.run("--root", root, "run", "--bundle", rootless_bundle, cid).stdout.splitlines()
    assert out[0].startswith("uid=0 gid=0"), out
    maps = [line.split() for line in out[1:]]
    assert maps == [
        ["0", str(user.uid), "1"],
        ["1", str(subids), str(SUBIDS)],
        ["0", str(user.gid), "1"],
        ["1", str(subids), str(SUBIDS)],
    ]


def test_subordinate_ids_serve_a_process_user_and_its_groups(user, rootless_bundle, subids):
    config = map_subids(rootless_bundle, user, subids, "sh", "-c", "id -u; id -g; id -G")
    config["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [2000]}
    save_config(rootless_bundle, config)
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    out = user.run("--root", root, "run", "--bundle", rootless_bundle, cid).stdout.split("\n")
    assert out[:3] == ["1000", "1000", "1000 2000"]  # setgroups left to newgidmap: allowed


def test_container_uid_1000_owns_files_as_its_subordinate_host_id(user, rootless_bundle, subids):
    config = map_subids(rootless_bundle, user, subids, "touch", "/tmp/f")
    config["root"]["readonly"] = False
    config["process"]["user"] = {"uid": 1000, "gid": 1000}
    save_config(rootless_bundle, config)
    os.chmod(os.path.join(rootless_bundle, "rootfs", "tmp"), 0o1777)
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    user.run("--root", os.path.join(user.home, "state"), "run", "--bundle", rootless_bundle, cid)
    info = os.stat(os.path.join(rootless_bundle, "rootfs", "tmp", "f"))
    assert (info.st_uid, info.st_gid) == (subids + 999, subids + 999)


def test_subordinate_host_id_reads_as_container_uid_1000(user, rootless_bundle, subids):
    path = os.path.join(rootless_bundle, "rootfs", "etc", "owned")
    with open(path, "w"):
        pass
    os.chown(path, subids + 999, subids + 999)
    map_subids(rootless_bundle, user, subids, "stat", "-c", "%u %g", "/etc/owned")
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    assert user.run("--root", root, "run", "--bundle", rootless_bundle, cid).stdout == "1000 1000\n"


def test_range_not_granted_in_subuid_fails_with_one_line(user, rootless_bundle, subids):
    config = map_subids(rootless_bundle, user, subids, "true")
    config["linux"]["uidMappings"][1]["hostID"] = subids + SUBIDS  # just past the grant
    save_config(rootless_bundle, config)
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    result = user.run("--root", root, "create", "--bundle", rootless_bundle, cid, check=False)
    lines = result.stderr.splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "linux.uidMappings" in lines[0] and "newuidmap" in lines[0], lines[0]
    assert "/etc/subuid" in lines[0], lines[0]
    assert_nothing_left(user, root, cid, rootless_bundle)


def test_subordinate_ranges_without_newuidmap_on_path_fail_with_one_line(
    user, rootless_bundle, subids
):
    map_subids(rootless_bundle, user, subids, "true")
    empty = os.path.join(user.home, f"bin-{uuid.uuid4().hex[:8]}")
    os.mkdir(empty)
    cid = f"rl-{uuid.uuid4().hex[:8]}"
    root = os.path.join(user.home, "state")
    result = user.run(
        "--root", root, "create", "--bundle", rootless_bundle, cid, check=False, env={"PATH": empty}
    )
    lines = result.stderr.splitlines()
    assert result.returncode != 0 and len(lines) == 1, result.stderr
    assert "linux.uidMappings" in lines[0] and "newuidmap" in lines[0], lines[0]
    assert "PATH" in lines[0], lines[0]
    assert_nothing_left(user, root, cid, rootless_bundle)
