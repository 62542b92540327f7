"""Checks a runtime is known to fail on this machine, with the reason: the ONE place.

Keyed by runtime name (the binary's file name), then by test function name.
Every entry becomes xfail(strict=True) for that runtime only, so a fix shows up
as an XPASS that fails the run until the entry is removed.
"""

KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "runc": {
        "test_delete_created_without_force_fails": (
            "runc deletes a created (never started) container without --force; "
            "runtime.md says deleting a container that is not stopped MUST fail"
        ),
    },
}
