"""Checks a runtime is known to fail on this machine, with the reason: the ONE place.

Keyed by runtime name (the binary's file name), then by check: a test function
name (all its parameters) or a test name with parameters, as in the side-by-side
report ("test_x[param]").
Every entry becomes xfail(strict=True) for that runtime only, so a fix shows up
as an XPASS that fails the run until the entry is removed.
"""

KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "runc": {
        "test_delete_created_without_force_fails": (
            "runc deletes a created (never started) container without --force; "
            "runtime.md says deleting a container that is not stopped MUST fail"
        ),
        "test_hook_state_has_lifecycle_status[poststart]": (
            "runc 1.1 runs poststart hooks inside `create` (state status 'created'), "
            "not after the user process started"
        ),
        "test_create_hooks_run_at_create_only": (
            "runc 1.1 runs poststart hooks inside `create`, before `start` was called"
        ),
        "test_failing_poststart_hook_does_not_stop_lifecycle": (
            "runc 1.1 makes a failing poststart hook fatal; config.md says log a warning "
            "and continue with the remaining hooks and the lifecycle"
        ),
        "test_failing_poststop_hook_does_not_stop_delete": (
            "runc 1.1 stops at the first failing poststop hook and skips the remaining ones"
        ),
        "test_domainname_is_set": "runc 1.1 ignores `domainname` (supported from runc 1.2)",
        "test_unknown_capability_is_an_error": (
            "runc warns 'ignoring unknown or unavailable capabilities' and creates the "
            "container; config.md says invalid values MUST be an error"
        ),
        "test_io_priority_is_applied": "runc 1.1 ignores process.ioPriority (runtime-spec 1.1)",
        "test_scheduler_policy_is_applied": "runc 1.1 ignores process.scheduler (runtime-spec 1.2)",
        "test_exec_cpu_affinity_is_applied": (
            "runc 1.1 ignores process.execCPUAffinity (runtime-spec 1.2)"
        ),
        "test_personality_is_applied": "runc 1.1 ignores linux.personality (runtime-spec 1.2)",
        "test_rootfs_propagation_is_applied[shared]": (
            "runc 1.1 applies rootfsPropagation to the namespace's / and then bind-mounts "
            "the rootfs under a parent it made private: the container's / is private"
        ),
        "test_rootfs_propagation_unbindable": (
            "runc 1.1 fails create with EINVAL: it makes / unbindable, then cannot "
            "bind-mount the rootfs from it"
        ),
        "test_new_time_namespace_is_created": (
            "runc 1.1 does not know the time namespace (runtime-spec 1.2): "
            "'namespace time does not exist'"
        ),
        "test_time_offsets_shift_the_boot_clock_inside": (
            "runc 1.1 does not know the time namespace (runtime-spec 1.2): "
            "'namespace time does not exist'"
        ),
        "test_memory_kernel_tcp_limit_is_set": (
            "runc 1.1 leaves memory.kmem.tcp.limit_in_bytes unlimited although the "
            "kernel here accepts the value"
        ),
        "test_invalid_oci_version_is_an_error": (
            "runc does not check ociVersion: 'invalid' is accepted (config.md: invalid "
            "values MUST be an error; runtime-tools misc_props checks it)"
        ),
        "test_user_namespace_is_joined_by_path[without-mappings]": (
            "runc 1.1 insists on mappings even for a user namespace it joins: 'User "
            "namespaces enabled, but no uid mappings found.'"
        ),
    },
    "porter-runtime": {},
}
