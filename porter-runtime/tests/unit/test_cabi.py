"""cabi: the ctypes pieces the runtime's hot path uses, built without importing ctypes."""

from __future__ import annotations

import errno
import os

import pytest
from porter_runtime.syscalls import cabi


def test_a_libc_function_returns_its_c_int():
    assert cabi.Library().getpid() == os.getpid()


def test_a_failing_call_leaves_its_errno_for_get_errno():
    assert cabi.Library().close(-1) == -1
    assert cabi.get_errno() == errno.EBADF


def test_restype_long_carries_a_syscall_result():
    libc = cabi.Library()
    libc.syscall.restype = cabi.c_long
    assert libc.syscall(39 if os.uname().machine == "x86_64" else 172) == os.getpid()


def test_the_interpreters_own_api_is_reachable_with_the_gil_held():
    assert cabi.Library(hold_gil=True).Py_IsInitialized() == 1


def test_a_char_array_has_the_bytes_written_into_it():
    buf = (cabi.c_char * 16)()
    buf[:3] = b"abc"
    assert buf.value == b"abc"


def test_a_structure_packs_its_fields_as_c_does():
    class Pair(cabi.Structure):
        _fields_ = [("a", cabi.c_uint32), ("b", cabi.c_uint64)]

    assert cabi.sizeof(Pair) == 16
    assert Pair(1, 2).b == 2


def test_private_names_are_not_looked_up_in_the_program():
    with pytest.raises(AttributeError):
        cabi.Library()._missing  # noqa: B018
