"""KeyedLocks: one lock per key while in use, none kept afterwards."""

from __future__ import annotations

import threading

from porter_registry.keyed_locks import KeyedLocks


def _take(locks: KeyedLocks, key: object, done: list[object]) -> threading.Thread:
    """A thread that takes `key`'s lock, notes it in `done` and lets go."""

    def run() -> None:
        with locks.held(key):
            done.append(key)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_holders_of_one_key_take_turns():
    locks = KeyedLocks()
    done: list[object] = []
    with locks.held("k"):
        waiter = _take(locks, "k", done)
        waiter.join(0.2)
        assert done == []  # the second holder waits for the first
    waiter.join(5)
    assert done == ["k"]


def test_different_keys_do_not_wait_for_each_other():
    locks = KeyedLocks()
    done: list[object] = []
    with locks.held(("repo", "a")):
        _take(locks, ("repo", "b"), done).join(5)
        assert done == [("repo", "b")]


def test_no_lock_is_kept_once_its_last_user_left():
    locks = KeyedLocks()
    for session in range(100):
        with locks.held(("repo", str(session))):
            pass
    assert locks._locks == {}
