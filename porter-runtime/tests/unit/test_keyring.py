"""The container's own session keyring: joined by name, made searchable for exec."""

import pytest
from porter_runtime import process
from porter_runtime.errors import SyscallError
from porter_runtime.syscalls.fake import RecordingSyscalls


def test_session_keyring_is_joined_by_name_and_made_searchable_by_its_owner():
    calls = RecordingSyscalls()
    process.join_session_keyring(calls, "_ses.abc", userns=False)
    assert calls.calls == [
        ("join_session_keyring", "_ses.abc"),
        ("keyring_permissions", 1234),
        ("set_keyring_permissions", 1234, 0x3F010000 | process.KEY_USR_SEARCH),
    ]


def test_in_a_user_namespace_the_keyring_is_searchable_by_other():
    calls = RecordingSyscalls()
    process.join_session_keyring(calls, "_ses.abc", userns=True)
    assert calls.named("set_keyring_permissions")[0][2] & process.KEY_OTH_SEARCH


def test_kernel_without_keyrings_is_not_an_error():
    calls = RecordingSyscalls(fail={"join_session_keyring": 38})
    process.join_session_keyring(calls, "_ses.abc", userns=False)
    assert calls.named("set_keyring_permissions") == []


def test_other_keyring_failures_are_errors():
    calls = RecordingSyscalls(fail={"join_session_keyring": 122})  # EDQUOT
    with pytest.raises(SyscallError):
        process.join_session_keyring(calls, "_ses.abc", userns=False)
