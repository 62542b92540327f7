"""The snapshot store: one read-only folder per layer, named by the layer's chain id.

    ROOT/.lock             shared by writers (prepare, lease), exclusive for collect
    ROOT/sn/<chain hex>/   a snapshot: fs/ (the layer's tree, whiteouts as overlayfs reads them)
                           and meta.json (chain id, diff_id, size)
    ROOT/l/<short>         a symlink to ../sn/<chain hex>/fs: the short name an overlay's lowerdir
                           option uses, so that many layers fit in the kernel's one-page limit
    ROOT/locks/<hex>       a flock per chain id, so that two pulls of one layer unpack it once
    ROOT/tmp/              unpacks in progress and snapshots being deleted
    ROOT/leases/<holder>   chain ids a holder (a container) mounts; collect keeps them

A layer is unpacked into a fresh folder under tmp/, verified against its diff_id, synced and
then renamed into sn/: a crash leaves either no snapshot or a complete one (and litter in tmp/
that the next collect removes). Snapshots are garbage-collected against what the caller still
needs (the images of its store) and the leases.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from porter_specs.digest import Digest
from porter_specs.errors import PorterError

from porter_image.image import Image
from porter_image.layer import ApplyOptions
from porter_image.layout import Layout
from porter_image.layout.atomic import fsync_dir, write_file_atomic
from porter_image.progress import Progress
from porter_image.snapshots.chain import chain_ids
from porter_image.snapshots.errors import SnapshotError
from porter_image.unpack import apply_blob

SHORT_NAME = 16  # hex digits of the chain id in a link name: 17 bytes of lowerdir per layer
EMPTY = "empty"  # the link name of an empty lowerdir, for an image without layers
_HOLDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_OPTIONS = ApplyOptions(overlay_whiteouts=True, allow_devices=True)


@dataclass(frozen=True)
class Snapshot:
    """One unpacked layer: `lowerdir` is the short path an overlay mount names it by."""

    chain_id: Digest
    diff_id: Digest
    size: int  # bytes of the files in the layer (hard links counted once)
    lowerdir: Path


class SnapshotStore:
    """Snapshots under one root folder; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in ("sn", "l", "locks", "tmp", "leases"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        empty = self.root / "l" / EMPTY
        if not empty.is_dir():
            (self.root / EMPTY).mkdir(mode=0o755, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.symlink(f"../{EMPTY}", empty)

    # -- reading -----------------------------------------------------------------------------

    def get(self, chain_id: Digest) -> Snapshot | None:
        """The snapshot of `chain_id`, or None when it has not been made (or was collected)."""
        try:
            meta = json.loads((self._folder(chain_id) / "meta.json").read_bytes())
        except FileNotFoundError:
            return None
        return Snapshot(chain_id, Digest.parse(meta["diff_id"]), meta["size"], self._link(chain_id))

    def chain_ids(self) -> list[Digest]:
        """Every snapshot present, in no particular order."""
        return [Digest("sha256", name) for name in os.listdir(self.root / "sn")]

    def lowerdirs(self, chain: Sequence[Digest]) -> tuple[Path, ...]:
        """The lowerdirs of an overlay over the snapshots of `chain` (bottom first), topmost
        first as the mount option wants them; SnapshotError when one is missing."""
        if not chain:
            return (self.root / "l" / EMPTY,)
        dirs = []
        for chain_id in reversed(chain):
            if self.get(chain_id) is None:
                raise SnapshotError(f"snapshot {chain_id}", "not unpacked (pull the image again)")
            dirs.append(self._link(chain_id))
        return tuple(dirs)

    # -- making ------------------------------------------------------------------------------

    def prepare(
        self, layout: Layout, image: Image, progress: Progress | None = None
    ) -> tuple[Snapshot, ...]:
        """Unpack every layer of `image` that has no snapshot yet; all of them, bottom first.

        Safe to call from several threads or processes for images that share layers: each
        layer is unpacked once, the others wait for it.
        """
        chain = chain_ids(image.config.diff_ids)
        result = []
        with self._shared():
            for layer, diff_id, chain_id in zip(
                image.manifest.layers, image.config.diff_ids, chain, strict=True
            ):
                snapshot = self.get(chain_id)
                if snapshot is None:
                    with self._chain_lock(chain_id):
                        snapshot = self.get(chain_id) or self._unpack(
                            layout, layer, diff_id, chain_id, progress
                        )
                result.append(snapshot)
        return tuple(result)

    def _unpack(
        self,
        layout: Layout,
        layer: object,
        diff_id: Digest,
        chain_id: Digest,
        progress: Progress | None,
    ) -> Snapshot:
        temp = Path(tempfile.mkdtemp(prefix=f"{chain_id.encoded[:SHORT_NAME]}-", dir=self.tmp))
        try:
            fs = temp / "fs"
            fs.mkdir(mode=0o755)
            if progress:
                progress.start(f"unpack {chain_id.encoded[:12]}")
            try:
                actual = apply_blob(layout, layer, fs, _OPTIONS, progress)  # type: ignore[arg-type]
            except PorterError as exc:
                raise SnapshotError(f"layer {diff_id}", str(exc)) from exc
            if progress:
                progress.finish()
            if actual != diff_id:
                reason = f"diff_id mismatch: config says {diff_id}, content is {actual}"
                raise SnapshotError(f"layer {diff_id}", reason)
            meta = {"chain_id": str(chain_id), "diff_id": str(diff_id), "size": _tree_size(fs)}
            write_file_atomic(temp / "meta.json", json.dumps(meta).encode())
            _syncfs(temp)
            os.chmod(temp, 0o700)
            os.replace(temp, self._folder(chain_id))
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        fsync_dir(self.root / "sn")
        link = self._link(chain_id)
        with contextlib.suppress(FileNotFoundError):
            link.unlink()  # a leftover of a snapshot collected half-way
        os.symlink(f"../sn/{chain_id.encoded}/fs", link)
        return Snapshot(chain_id, diff_id, meta["size"], link)

    # -- leases and garbage collection ---------------------------------------------------------

    def lease(self, holder: str, chain: Iterable[Digest]) -> None:
        """Keep the snapshots of `chain` for `holder` (a container id) until `release`."""
        path = self._lease_path(holder)
        with self._shared():
            write_file_atomic(path, json.dumps(sorted(str(c) for c in chain)).encode())

    def release(self, holder: str) -> None:
        """Drop `holder`'s lease (nothing happens when it holds none)."""
        self._lease_path(holder).unlink(missing_ok=True)

    def leased(self) -> set[Digest]:
        """Every chain id some holder keeps."""
        kept: set[Digest] = set()
        for name in os.listdir(self.root / "leases"):
            with contextlib.suppress(FileNotFoundError, ValueError, PorterError):
                kept.update(Digest.parse(c) for c in json.loads((self.leases / name).read_bytes()))
        return kept

    def collect(self, keep: Iterable[Digest]) -> list[Digest]:
        """Remove every snapshot neither in `keep` nor leased, and unpacks a crash left behind;
        returns the chain ids removed. Waits until no prepare or lease is under way."""
        with self._lock(fcntl.LOCK_EX):
            wanted = set(keep) | self.leased()
            removed = sorted(c for c in self.chain_ids() if c not in wanted)
            for chain_id in removed:
                self._link(chain_id).unlink(missing_ok=True)
                doomed = self.tmp / f"deleted-{chain_id.encoded}-{os.urandom(4).hex()}"
                os.replace(self._folder(chain_id), doomed)
                (self.root / "locks" / chain_id.encoded).unlink(missing_ok=True)
            fsync_dir(self.root / "sn")
            for name in os.listdir(self.tmp):
                shutil.rmtree(self.tmp / name, ignore_errors=True)
        return removed

    # -- paths and locks -----------------------------------------------------------------------

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def leases(self) -> Path:
        return self.root / "leases"

    def _folder(self, chain_id: Digest) -> Path:
        return self.root / "sn" / chain_id.encoded

    def _link(self, chain_id: Digest) -> Path:
        return self.root / "l" / chain_id.encoded[:SHORT_NAME]

    def _lease_path(self, holder: str) -> Path:
        if not _HOLDER.fullmatch(holder):
            raise SnapshotError(f"lease {holder!r}", "a holder is named by [A-Za-z0-9_.-]")
        return self.leases / holder

    @contextmanager
    def _shared(self) -> Iterator[None]:
        with self._lock(fcntl.LOCK_SH):
            yield

    @contextmanager
    def _lock(self, mode: int) -> Iterator[None]:
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)

    @contextmanager
    def _chain_lock(self, chain_id: Digest) -> Iterator[None]:
        path = self.root / "locks" / chain_id.encoded
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def _tree_size(root: Path) -> int:
    """Bytes of the regular files under `root`, each inode counted once."""
    seen: set[int] = set()
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.lstat(os.path.join(dirpath, name))
            if st.st_nlink > 1:
                if st.st_ino in seen:
                    continue
                seen.add(st.st_ino)
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def _syncfs(path: Path) -> None:
    """Flush the filesystem holding `path`, so a renamed snapshot has its files' data too."""
    libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter runs on
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise SnapshotError(path, f"cannot sync: {os.strerror(err)}")
    finally:
        os.close(fd)
