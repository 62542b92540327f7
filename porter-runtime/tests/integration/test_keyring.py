"""Session keyrings: each container gets its own (runc's default), --no-new-keyring keeps the
caller's. Checked from the host in /proc/keys, where a keyring shows with its name and the
number of its users."""

import subprocess
import time


def session_keyrings(name: str) -> list[list[str]]:
    """The /proc/keys entries (serial, flags, usage, ...) of keyrings called `name`."""
    with open("/proc/keys") as f:
        fields = [line.split(None, 8) for line in f]
    return [f for f in fields if len(f) == 9 and f[8].startswith(f"{name}:")]


def test_container_gets_a_session_keyring_of_its_own(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("create", "--bundle", str(bundle), cid)
    assert len(session_keyrings(f"_ses.{cid}")) == 1


def test_no_new_keyring_keeps_the_callers_session_keyring(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("create", "--no-new-keyring", "--bundle", str(bundle), cid)
    assert session_keyrings(f"_ses.{cid}") == []


def test_exec_joins_the_containers_keyring(runtime, bundle, runtime_binary):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    (before,) = session_keyrings(f"_ses.{cid}")
    proc = subprocess.Popen(
        [runtime_binary, "--root", runtime.root, "exec", cid, "sleep", "30"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while len(runtime("ps", cid).stdout.splitlines()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        after = session_keyrings(f"_ses.{cid}")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert [entry[0] for entry in after] == [before[0]]  # the same keyring ...
    assert int(after[0][2]) > int(before[2])  # ... with one more user
