"""Bad and unusual configs: errors where the spec asks for them, and nothing left behind."""

from __future__ import annotations

import pytest

from conformance.runtime import hostfs

pytestmark = pytest.mark.integration


def _leftovers(lab, container) -> list[str]:
    """What a failed create must not leave: state, state directory, cgroup."""
    found = []
    if container.try_state() is not None:
        found.append("state still answers")
    if (lab.runtime.root / container.id).exists():
        found.append(f"state directory {lab.runtime.root / container.id}")
    cgroups_path = container.bundle.linux.get("cgroupsPath", "").lstrip("/")
    for controller, mount in hostfs.cgroup_mounts().items():
        relevant = controller in ("pids", "memory", "") and cgroups_path
        if relevant and (mount / cgroups_path).exists():
            found.append(f"cgroup {mount / cgroups_path}")
    return found


def _create_fails_cleanly(lab, bundle, write: bool = True) -> None:
    container = lab.container(bundle)
    outcome = container.create() if write else lab.runtime.create(container.id, bundle.path)
    assert not outcome.ok, "create succeeded"
    assert outcome.stderr.strip(), "no error message"
    assert _leftovers(lab, container) == []


def test_unknown_property_is_ignored(lab):
    bundle = lab.bundle(["true"])
    bundle.config["unknownProperty"] = {"nested": True}
    lab.container(bundle).run_to_exit()


def test_unknown_annotation_key_is_ignored(lab):
    bundle = lab.bundle(["true"])
    bundle.config["annotations"] = {"org.example.unknown-key": ""}
    lab.container(bundle).run_to_exit()


def test_invalid_oci_version_is_an_error(lab):
    bundle = lab.bundle(["true"])
    bundle.config["ociVersion"] = "invalid"
    _create_fails_cleanly(lab, bundle)


def test_missing_rootfs_is_an_error(lab):
    bundle = lab.bundle(["true"])
    bundle.config["root"]["path"] = "no-such-rootfs"
    _create_fails_cleanly(lab, bundle)


def test_config_that_is_not_json_is_an_error(lab):
    bundle = lab.bundle(["true"])
    (bundle.path / "config.json").write_text("{ not json")
    _create_fails_cleanly(lab, bundle, write=False)


def test_missing_config_is_an_error(lab):
    bundle = lab.bundle(["true"])
    _create_fails_cleanly(lab, bundle, write=False)


def test_missing_process_executable_is_an_error(lab):
    bundle = lab.bundle(["/no/such/binary"])
    container = lab.container(bundle)
    created = container.create()
    if created.ok:  # runtimes may find out at create or at start
        assert not container.start().ok
    else:
        assert _leftovers(lab, container) == []


def test_empty_process_args_is_an_error(lab):
    bundle = lab.bundle([])
    _create_fails_cleanly(lab, bundle)


def test_relative_process_cwd_is_an_error(lab):
    bundle = lab.bundle(["true"])
    bundle.process["cwd"] = "relative/dir"
    _create_fails_cleanly(lab, bundle)


def test_failed_hook_leaves_nothing_behind(lab):
    bundle = lab.bundle(["true"])
    busybox = str(bundle.rootfs / "bin" / "busybox")
    bundle.config["hooks"] = {"createRuntime": [{"path": busybox, "args": ["false"]}]}
    _create_fails_cleanly(lab, bundle)


def test_delete_leaves_nothing_behind(lab):
    container = lab.container(lab.bundle(["true"]))
    container.run_to_exit()
    assert _leftovers(lab, container) == []
