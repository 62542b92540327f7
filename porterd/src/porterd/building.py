"""Builds for `POST /build`: porter_image's Dockerfile builder over porterd's image store.

    service = BuildService(images=store, runtime="/usr/bin/porter-runtime")
    stored = service.build(context, BuildRequest(names=("docker.io/library/x:latest",)), emit)

The context (a folder a request's tar was unpacked into) is built by `porter_image.build`
straight into the store's layout. FROM names an image of the store first (`busybox` is
`docker.io/library/busybox:latest` there, as for `run`); one the store lacks, or every one with
`pull`, is pulled into the store as `POST /images/create` pulls it. The result is committed under
an incoming tag and then named by each `t`, so a failed build names nothing.
"""

from __future__ import annotations

import io
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from porter_image.distribution.auth import Credentials
from porter_image.reference import InvalidReferenceError, parse_docker_reference
from porter_image.run_output import RunOutput
from porter_specs.errors import PorterError
from porter_specs.models import Platform

from porterd.disk_usage import tree_size
from porterd.errors import DaemonError, InvalidParameter
from porterd.images import ImageStore, StoredImage, index
from porterd.images.importing import incoming_tag
from porterd.images.registry import Emit

if TYPE_CHECKING:
    from porter_image.build import BuildOptions

NETWORK_MODES = {"": "host", "default": "host", "bridge": "host", "host": "host", "none": "none"}


@dataclass(frozen=True)
class BuildRequest:
    """What `POST /build` asks for, checked: `names` are full references."""

    names: tuple[str, ...] = ()
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = field(default_factory=dict)
    target: str = ""
    no_cache: bool = False
    pull: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    network: str = "host"
    platform: Platform | None = None
    cache_from: tuple[str, ...] = ()
    credentials: dict[str, Credentials] = field(default_factory=dict)  # by registry domain


def build_names(tags: list[str]) -> tuple[str, ...]:
    """The full references of the `t` parameters; InvalidParameter names a bad one."""
    names = []
    for tag in tags:
        try:
            reference = parse_docker_reference(tag)
        except InvalidReferenceError as exc:
            raise InvalidParameter(f"invalid tag {tag!r}: {exc}") from exc
        if reference.digest is not None:
            raise InvalidParameter(f"invalid tag {tag!r}: a build cannot be tagged by digest")
        names.append(str(reference))
    return tuple(names)


def network_mode(value: str) -> str:
    """RUN steps run in the host's network or none; the default and bridge mean the host's."""
    if value not in NETWORK_MODES:
        raise InvalidParameter(f"network mode {value!r} is not supported (use host or none)")
    return NETWORK_MODES[value]


class BuildCancelled(DaemonError):
    """The client went away during the build: nothing is named."""

    status = 499  # nobody reads it; the log says why the build stopped


class BuildService:
    """Builds into `images`, RUN steps through the OCI runtime at `runtime`."""

    def __init__(self, *, images: ImageStore, runtime: str) -> None:
        self.images = images
        self.runtime = runtime
        self.root = images.root / "build"

    def unpack(self, stream: BinaryIO) -> Path:
        """The tar `stream` unpacked into a folder of its own under the data root, as it
        arrives; a tar that cannot be read is InvalidParameter. `discard` removes it."""
        from porter_image.build import BuildContext, BuildError

        folder = self.root / uuid.uuid4().hex[:16]
        try:
            return BuildContext.from_tar(_peekable(stream), folder / "context").root
        except BaseException as exc:
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, BuildError):
                raise InvalidParameter(f"cannot read the build context: {exc.__cause__}") from exc
            raise

    def discard(self, root: Path) -> None:
        """Remove a context `unpack` made."""
        shutil.rmtree(root.parent, ignore_errors=True)

    def build(
        self,
        root: Path,
        request: BuildRequest,
        emit: Emit,
        gone: Callable[[], bool] = lambda: False,
    ) -> StoredImage:
        """Build the context at `root`; steps and RUN output go to `emit` as `{"stream": line}`
        (unless quiet), in the order they were made, by the one thread that reads the RUN
        output: a step's line goes through the same pipe (RunOutput.write_line). Once `gone()`
        says the client left, the build stops before its next step, and in any case before it
        names its result (BuildCancelled)."""
        from porter_image.build import BuildContext, BuildError
        from porter_image.dockerfile.ignore import IgnoreRules

        from porterd.store_builder import StoreBuilder

        dockerfile = _dockerfile(root, request.dockerfile)
        try:
            text = dockerfile.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidParameter(f"{request.dockerfile}: not UTF-8 text") from exc

        def stream(line: str) -> None:  # by the pipe's reader
            if not request.quiet:
                emit({"stream": line + "\n"})

        tag = incoming_tag()
        ignore = IgnoreRules.for_context(root, dockerfile)
        context = BuildContext(root, ignore, temporary=True)  # unpack's folder, discarded after
        quiet_emit: Emit = (lambda message: None) if request.quiet else emit
        with RunOutput(stream) as output:

            def report(line: str) -> None:
                _stop_if(gone, output)
                output.write_line(line)

            options = self._options(request, tag, report, output.fd)
            layout = self.images.layout()
            builder = StoreBuilder(
                self.images, quiet_emit, request.credentials, layout, context, options
            )
            try:
                builder.prefetch(text)
                builder.build(text)
                self._drop_if_gone(tag, gone, output)
                return self.images.adopt(tag, request.names)
            except DaemonError:
                raise
            except (BuildError, ValueError) as exc:  # the Dockerfile, the context, a RUN
                raise InvalidParameter(str(exc)) from exc
            except PorterError as exc:
                raise DaemonError(f"build failed: {exc}") from exc
            finally:  # once the image holds its layers, the build's snapshots may go
                builder.release_snapshots()

    def _drop_if_gone(self, tag: str, gone: Callable[[], bool], output: RunOutput) -> None:
        """Once the stream has every line, BuildCancelled if the client went away meanwhile:
        the image the build committed under `tag` is dropped then (its blobs collected
        later), so that it is not named."""
        output.close()
        try:
            _stop_if(gone, output)
        except BuildCancelled:
            layout = self.images.layout()
            index.edit_entries(layout, lambda entries: index.without(entries, {tag}))
            self.images.collect_later()
            raise

    def _options(
        self, request: BuildRequest, tag: str, report: Callable[[str], None], output: int
    ) -> BuildOptions:
        from porter_image.build import BuildOptions

        return BuildOptions(
            tags=(tag,),
            dockerfile=request.dockerfile,
            build_args=request.build_args,
            target=request.target,
            no_cache=request.no_cache,
            pull=request.pull,
            platform=request.platform,
            network=request.network,
            runtime=self.runtime,
            labels=request.labels,
            insecure_registries=tuple(self.images.registry.insecure()),
            cache_from=request.cache_from,
            report=report,
            output=output,
        )

    def prune(self) -> dict[str, Any]:
        """`POST /build/prune`: empty the builder's folder of the layout (the step cache) once
        no build runs, then collect the blobs and snapshots only the cache kept."""
        from porter_image.build.builder import BUILD_FOLDER

        layout = self.images.layout()
        cache = Path(layout.path) / BUILD_FOLDER
        deleted: list[str] = []
        reclaimed = 0
        with layout.gc_lock.hold(exclusive=True):  # builds hold it shared from start to end
            for entry in sorted(cache.iterdir()) if cache.is_dir() else []:
                if entry.name == "tmp":
                    continue
                reclaimed += tree_size(entry)
                deleted += [p.name for p in entry.iterdir()] if entry.is_dir() else [entry.name]
                _remove_tree(entry)
        self.images.collect()
        return {"CachesDeleted": deleted or None, "SpaceReclaimed": reclaimed}


class _RawBody(io.RawIOBase):
    """A request body as a raw stream, so that io.BufferedReader can offer `peek` (the
    compression of the context is told from its first bytes)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _peekable(stream: BinaryIO) -> BinaryIO:
    return cast(BinaryIO, io.BufferedReader(_RawBody(stream), 1 << 16))


def _stop_if(gone: Callable[[], bool], output: RunOutput) -> None:
    """BuildCancelled once `gone()` says so, or the stream could not be written to."""
    if gone() or output.failure is not None:
        raise BuildCancelled("build cancelled: the client went away") from output.failure


def _dockerfile(root: Path, name: str) -> Path:
    """The Dockerfile `name` of the context at `root`; dockerd's error when it is not there."""
    try:
        path = (root / (name or "Dockerfile")).resolve()
    except (ValueError, OSError):  # a NUL byte, a symlink loop
        path = root
    if not path.is_relative_to(root) or not path.is_file():
        raise InvalidParameter(f"Cannot locate specified Dockerfile: {name or 'Dockerfile'}")
    return path


def _remove_tree(root: Path) -> None:
    """Remove `root`; the snapshots' folders are read-only, so make them writable first."""
    if not root.is_dir() or root.is_symlink():
        root.unlink(missing_ok=True)
        return
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]:
        folder.chmod(0o700)
    shutil.rmtree(root)
