"""Session keyrings: each container gets its own (runc's default), --no-new-keyring keeps the
caller's. Checked from the host in /proc/keys, where a keyring shows with its name and the
number of its users."""

import subprocess

import pytest
from host_features import PROC_KEYS, missing_file, missing_program, needs, skip_unless

pytestmark = needs(missing_file(PROC_KEYS, "the kernel's key management"))


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


@pytest.fixture(scope="module")
def session_keyring_probe(tmp_path_factory):
    """A static program printing the serial of its session keyring, as /proc/keys shows it."""
    skip_unless(missing_program("gcc"))
    work = tmp_path_factory.mktemp("keyring-probe")
    (work / "probe.c").write_text(
        "#include <stdio.h>\n#include <unistd.h>\n#include <sys/syscall.h>\n"
        "int main(void) {\n"
        "  long id = syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* SESSION */, 0);\n"
        '  printf("%08lx\\n", id);\n'
        "  return id < 0;\n}\n"
    )
    subprocess.run(
        ["gcc", "-static", "-O2", "-o", str(work / "probe"), str(work / "probe.c")], check=True
    )
    return work / "probe"


def test_exec_joins_the_containers_keyring(runtime, bundle, session_keyring_probe):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    bundle.config["mounts"].append(
        {
            "destination": "/keyring-probe",
            "type": "bind",
            "source": str(session_keyring_probe),
            "options": ["bind", "ro"],
        }
    )
    bundle.write()
    runtime("run", "-d", "--bundle", str(bundle), cid)
    (keyring,) = session_keyrings(f"_ses.{cid}")
    seen = runtime("exec", cid, "/keyring-probe").stdout.strip()
    assert seen == keyring[0]
