"""The behaviour every storage driver must have. A driver's test module subclasses
`StorageDriverSuite` and provides a `driver` fixture; every test here then runs against it."""

from __future__ import annotations

import threading

import pytest
from porter_registry.storage.driver import (
    FileWriter,
    PathNotFoundError,
    StorageDriver,
    StorageError,
)


class StorageDriverSuite:
    def test_driver_implements_the_protocol(self, driver: StorageDriver) -> None:
        assert isinstance(driver, StorageDriver)

    def test_put_content_then_get_content_returns_it(self, driver: StorageDriver) -> None:
        driver.put_content("a/b/c", b"hello")
        assert driver.get_content("a/b/c") == b"hello"

    def test_put_content_replaces_existing_content(self, driver: StorageDriver) -> None:
        driver.put_content("x", b"old")
        driver.put_content("x", b"new")
        assert driver.get_content("x") == b"new"

    def test_get_content_of_missing_path_raises_not_found(self, driver: StorageDriver) -> None:
        with pytest.raises(PathNotFoundError):
            driver.get_content("missing")

    def test_paths_escaping_the_store_are_refused(self, driver: StorageDriver) -> None:
        with pytest.raises(StorageError):
            driver.put_content("../escape", b"x")
        with pytest.raises(StorageError):
            driver.get_content("/etc/passwd")
        for path in ("a/../../escape", "a/b/../../../escape", "", ".", "./"):
            with pytest.raises(StorageError):
                driver.put_content(path, b"x")

    def test_empty_and_dot_components_name_the_same_path(self, driver: StorageDriver) -> None:
        driver.put_content("a/b", b"x")
        assert driver.get_content("a//b") == driver.get_content("./a/./b") == b"x"

    def test_reader_starts_at_offset(self, driver: StorageDriver) -> None:
        driver.put_content("r", b"0123456789")
        with driver.reader("r", 4) as reader:
            assert reader.read() == b"456789"

    def test_reader_of_missing_path_raises_not_found(self, driver: StorageDriver) -> None:
        with pytest.raises(PathNotFoundError):
            driver.reader("nothing")

    def test_writer_commit_keeps_content_and_size(self, driver: StorageDriver) -> None:
        writer = driver.writer("w/data")
        assert isinstance(writer, FileWriter)
        writer.write(b"abc")
        writer.write(b"def")
        writer.commit()
        writer.close()
        assert writer.size == 6
        assert driver.get_content("w/data") == b"abcdef"

    def test_writer_append_resumes_at_the_end(self, driver: StorageDriver) -> None:
        first = driver.writer("w/data")
        first.write(b"abc")
        first.commit()
        first.close()
        second = driver.writer("w/data", append=True)
        assert second.size == 3
        second.write(b"de")
        second.commit()
        second.close()
        assert driver.get_content("w/data") == b"abcde"

    def test_writer_append_at_offset_drops_the_tail(self, driver: StorageDriver) -> None:
        driver.put_content("w/data", b"committed+garbage")
        writer = driver.writer("w/data", append=True, offset=len(b"committed"))
        writer.write(b"!")
        writer.commit()
        writer.close()
        assert driver.get_content("w/data") == b"committed!"

    def test_writer_cancel_removes_the_file(self, driver: StorageDriver) -> None:
        writer = driver.writer("w/data")
        writer.write(b"abc")
        writer.cancel()
        with pytest.raises(PathNotFoundError):
            driver.stat("w/data")

    def test_stat_reports_size_and_kind(self, driver: StorageDriver) -> None:
        driver.put_content("d/f", b"12345")
        info = driver.stat("d/f")
        assert (info.size, info.is_dir) == (5, False)
        assert driver.stat("d").is_dir

    def test_list_gives_direct_children_sorted(self, driver: StorageDriver) -> None:
        for path in ("l/b", "l/a", "l/c/deep"):
            driver.put_content(path, b"")
        assert driver.list("l") == ["l/a", "l/b", "l/c"]

    def test_list_of_missing_folder_raises_not_found(self, driver: StorageDriver) -> None:
        with pytest.raises(PathNotFoundError):
            driver.list("nowhere")

    def test_move_replaces_destination(self, driver: StorageDriver) -> None:
        driver.put_content("src", b"new")
        driver.put_content("dst/x", b"old")
        driver.move("src", "dst/x")
        assert driver.get_content("dst/x") == b"new"
        with pytest.raises(PathNotFoundError):
            driver.stat("src")

    def test_move_of_missing_source_raises_not_found(self, driver: StorageDriver) -> None:
        with pytest.raises(PathNotFoundError):
            driver.move("ghost", "somewhere")

    def test_delete_removes_a_whole_folder(self, driver: StorageDriver) -> None:
        driver.put_content("t/a/b", b"1")
        driver.put_content("t/c", b"2")
        driver.delete("t")
        with pytest.raises(PathNotFoundError):
            driver.stat("t")

    def test_delete_of_missing_path_raises_not_found(self, driver: StorageDriver) -> None:
        with pytest.raises(PathNotFoundError):
            driver.delete("ghost")

    def test_touch_advances_mtime(self, driver: StorageDriver) -> None:
        driver.put_content("m", b"")
        before = driver.stat("m").mtime
        driver.touch("m")
        assert driver.stat("m").mtime >= before

    def test_concurrent_put_content_never_shows_partial_data(self, driver: StorageDriver) -> None:
        values = [bytes([i]) * 65536 for i in range(8)]
        seen: set[bytes] = set()
        driver.put_content("race", values[0])

        def write(value: bytes) -> None:
            for _ in range(10):
                driver.put_content("race", value)

        def read() -> None:
            for _ in range(50):
                seen.add(driver.get_content("race"))

        threads = [threading.Thread(target=write, args=(v,)) for v in values]
        threads.append(threading.Thread(target=read))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert seen <= set(values)
