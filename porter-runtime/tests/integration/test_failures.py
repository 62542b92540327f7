"""Bad input: one clear error line, a non-zero exit, and nothing left behind."""

import os

import pytest
from host_features import missing_v1_controller, missing_v1_file, needs


def assert_clean_failure(result, runtime, cid, leftovers, bundle, words):
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("porter-runtime: error: "), result.stderr
    assert words in lines[0]
    assert leftovers(cid, runtime.root, bundle.path / "rootfs") == []


def test_schema_violation(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.config["process"]["args"] = "not-a-list"
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "/process/args")


def test_missing_rootfs(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.config["root"]["path"] = "no-such-rootfs"
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "does not exist")


def test_unknown_namespace_type(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.config["linux"]["namespaces"].append({"type": "bogus"})
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "namespaces")


def test_duplicate_id_keeps_the_first_container(runtime, bundle, leftovers):
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert result.returncode != 0 and "already exists" in result.stderr
    assert runtime.state(cid)["status"] == "created"


def test_missing_executable_fails_create_and_cleans_up(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.run_args("no-such-program")
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "not found")


def test_a_file_that_is_not_executable_fails_create_with_permission_denied(
    runtime, bundle, leftovers
):
    cid = runtime.new_id()
    bundle.run_args("/etc/passwd")
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "permission denied")


def test_failing_mount_cleans_up(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.config["mounts"].append({"destination": "/x", "type": "nosuchfs", "source": "x"})
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "mount /x")


def test_rlimit_above_hard_limit_is_a_clear_error(runtime, bundle, leftovers):
    from porter_runtime.capabilities import has_capability

    if has_capability("CAP_SYS_RESOURCE"):
        pytest.skip("the runtime may raise hard limits here")
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1] + 1
    cid = runtime.new_id()
    bundle.config["process"]["rlimits"] = [{"type": "RLIMIT_NPROC", "soft": hard, "hard": hard}]
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "CAP_SYS_RESOURCE")


def test_failing_prestart_hook_fails_create_and_cleans_up(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/false"}]}
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "prestart hook /bin/false")


def test_wrong_state_operations_leave_the_container_as_it_was(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("create", "--bundle", str(bundle), cid)
    for args in (("resume", cid), ("pause", cid)):
        result = runtime(*args, check=False)
        assert result.returncode != 0 and "it is created" in result.stderr
    assert runtime.state(cid)["status"] == "created"


def test_nothing_is_left_after_delete_of_a_created_container(runtime, bundle, leftovers):
    cid = runtime.new_id()
    runtime("create", "--bundle", str(bundle), cid)
    runtime("delete", "--force", cid)
    assert leftovers(cid, runtime.root, bundle.path / "rootfs") == []
    assert not os.path.exists(os.path.join(runtime.root, cid))


def test_unknown_capability_fails_create_with_one_line(runtime, bundle, leftovers):
    cid = runtime.new_id()
    bundle.config["process"]["capabilities"]["effective"].append("CAP_TEST")
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "unknown capability 'CAP_TEST'")


def test_unknown_capability_fails_exec(runtime, bundle):
    cid = runtime.new_id()
    bundle.run_args("sleep", "30")
    runtime("run", "-d", "--bundle", str(bundle), cid)
    result = runtime("exec", "--cap", "CAP_TEST", cid, "true", check=False)
    assert result.returncode != 0 and "unknown capability 'CAP_TEST'" in result.stderr


@needs(missing_v1_controller("blkio"))
def test_blkio_weight_the_kernel_lacks_fails_create_naming_the_file(runtime, bundle, leftovers):
    """As runc: a weight the host cannot apply is an error, never silently dropped."""
    if missing_v1_file("blkio", "blkio.weight|blkio.bfq.weight") is None:
        pytest.skip("this kernel has a blkio weight file, so the weight is applied")
    cid = runtime.new_id()
    bundle.config["linux"]["resources"]["blockIO"] = {"weight": 500}
    bundle.write()
    result = runtime("create", "--bundle", str(bundle), cid, check=False)
    assert_clean_failure(result, runtime, cid, leftovers, bundle, "blkio.weight: cannot write")
