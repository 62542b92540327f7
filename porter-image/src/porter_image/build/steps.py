"""The instructions of one stage, applied to its StageState in order.

Instructions that only change the config are applied at once and chain the cache key.
COPY, ADD, WORKDIR and RUN are filesystem steps: on a cache hit the state after the step is
taken from the cache; otherwise the step runs on an overlay of the parent's snapshots and
the overlay's upper folder becomes the step's layer.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from porter_specs import media_types
from porter_specs.digest import Digest
from porter_specs.errors import PorterError
from porter_specs.models import Descriptor, ImageConfig, Manifest

from porter_image.build import metadata
from porter_image.build.cache import step_key
from porter_image.build.errors import BuildError
from porter_image.build.state import StageState
from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.lines import Heredoc
from porter_image.dockerfile.words import expand_text, expand_word

if TYPE_CHECKING:
    from pathlib import Path

    from porter_image.build.builder import Builder
    from porter_image.build.rootfs import StepRootfs
    from porter_image.layer.options import LayerResult

_NO_CONFIG = Descriptor(media_types.IMAGE_CONFIG, Digest("sha256", "0" * 64), 0)


class StageRunner:
    def __init__(
        self,
        builder: Builder,
        dockerfile: ins.Dockerfile,
        stage: ins.Stage,
        state: StageState,
        global_scope: dict[str, str],
    ) -> None:
        self.builder = builder
        self.dockerfile = dockerfile
        self.stage = stage
        self.state = state
        self.global_scope = global_scope
        self.escape = dockerfile.directives.escape
        self.where = ""

    # -- shared by the steps -------------------------------------------------------------------

    def expand(self, word: str) -> str:
        try:
            return expand_word(word, self.state.scope(), self.escape)
        except PorterError as exc:
            raise BuildError(self.where, str(exc)) from exc

    def expand_heredoc(self, doc: Heredoc) -> str:
        """A heredoc's body with variables substituted, unless its name was quoted."""
        if not doc.expand:
            return doc.content
        try:
            return expand_text(doc.content, self.state.scope(), self.escape)
        except PorterError as exc:
            raise BuildError(self.where, str(exc)) from exc

    def fail(self, reason: str) -> BuildError:
        return BuildError(self.where, reason)

    def lowerdirs(self, state: StageState) -> tuple[Path, ...]:
        """The overlay lowerdirs of a state's layers, unpacking the snapshots not made yet."""
        from porter_image.image import Image
        from porter_image.snapshots import chain_ids

        config = ImageConfig.from_json(state.config)
        image = Image(
            _NO_CONFIG, Manifest(_NO_CONFIG, tuple(state.layers)), config, {}, state.config
        )
        store = self.builder.snapshots
        store.prepare(self.builder.layout, image)
        return store.lowerdirs(chain_ids(config.diff_ids))

    def filesystem_step(
        self,
        key: str,
        created_by: str,
        action: Callable[[StepRootfs], None],
        empty_is_no_layer: bool = False,
        after_unmount: Callable[[StepRootfs], None] | None = None,
    ) -> None:
        """Reuse the cached state after this step, or run `action` on a fresh rootfs and make
        its changes the step's layer."""
        options = self.builder.options
        cached = None if options.no_cache else self.builder.cache.get(key)
        if cached is not None:
            options.report(f"{self.where}: CACHED")
            self.state.restore(key, cached)
            return
        from porter_image.build.rootfs import StepRootfs

        with StepRootfs(self.builder.workspace, self.lowerdirs(self.state)) as step:
            action(step)
            step.unmount()
            if after_unmount is not None:
                after_unmount(step)
            empty = not any(step.upper.iterdir())
            layer = None if empty and empty_is_no_layer else self._write_layer(step.upper)
        self.state.record(key, created_by, layer)
        self.builder.cache.put(key, self.state.cached())

    def _write_layer(self, upper: Path) -> LayerResult:
        from porter_image.build.upper_layer import write_upper_layer
        from porter_image.layer.options import TarOptions

        layout = self.builder.layout
        tar = TarOptions(mtime=self.builder.options.source_date_epoch)
        with layout.blob_writer() as out:
            return write_upper_layer(upper, out, self.builder.options.compression, tar)

    def config_step(self, created_by: str) -> None:
        """Record a step that changed only the config; cached too, so that a fully cached
        build gives the same config, history times included, and so the same digest."""
        key = step_key(self.state.key, created_by)
        cached = None if self.builder.options.no_cache else self.builder.cache.get(key)
        if cached is not None:
            self.state.restore(key, cached)
            return
        self.state.record(key, created_by)
        self.builder.cache.put(key, self.state.cached())

    # -- dispatch ------------------------------------------------------------------------------

    def run(self, instruction: ins.Instruction) -> None:
        self.where = f"{self.dockerfile.file}:{instruction.line}: {instruction.keyword}"
        self.builder.options.report(self.where)
        handler = getattr(self, f"_{type(instruction).__name__.lower()}")
        try:
            handler(instruction)
        except ValueError as exc:
            raise self.fail(str(exc)) from exc

    def _arg(self, arg: ins.Arg) -> None:
        build_args = self.builder.options.build_args
        for name, default in arg.pairs:
            self.builder.consumed.add(name)
            if name in build_args:
                self.state.args[name] = build_args[name]
            elif default is not None:
                self.state.args[name] = self.expand(default)
            elif name in self.global_scope:
                self.state.args[name] = self.global_scope[name]
        values = " ".join(f"{n}={self.state.args.get(n, '')}" for n, _ in arg.pairs)
        self.state.key = step_key(self.state.key, "ARG " + values)

    def _env(self, env: ins.Env) -> None:
        pairs = [(self.expand(k), self.expand(v)) for k, v in env.pairs]
        self.state.set_env(pairs)
        self.config_step("ENV " + " ".join(f"{k}={v}" for k, v in pairs))

    def _label(self, label: ins.Label) -> None:
        pairs = [(self.expand(k), self.expand(v)) for k, v in label.pairs]
        runtime = self.state.runtime
        runtime["Labels"] = {**(runtime.get("Labels") or {}), **dict(pairs)}
        self.config_step("LABEL " + " ".join(f"{k}={v}" for k, v in pairs))

    def _maintainer(self, maintainer: ins.Maintainer) -> None:
        self.state.config["author"] = self.expand(maintainer.name)
        self.config_step(f"MAINTAINER {self.state.config['author']}")

    def _user(self, user: ins.User) -> None:
        self.state.runtime["User"] = self.expand(user.user)
        self.config_step(f"USER {self.state.runtime['User']}")

    def _stopsignal(self, signal: ins.Stopsignal) -> None:
        self.state.runtime["StopSignal"] = self.expand(signal.signal)
        self.config_step(f"STOPSIGNAL {self.state.runtime['StopSignal']}")

    def _expose(self, expose: ins.Expose) -> None:
        ports = [key for word in expose.ports for key in metadata.port_keys(self.expand(word))]
        runtime = self.state.runtime
        runtime["ExposedPorts"] = {**(runtime.get("ExposedPorts") or {}), **{p: {} for p in ports}}
        self.config_step("EXPOSE " + " ".join(ports))

    def _volume(self, volume: ins.Volume) -> None:
        paths = [self.expand(path) for path in volume.paths]
        if not all(paths):
            raise self.fail("a volume path may not be empty")
        runtime = self.state.runtime
        runtime["Volumes"] = {**(runtime.get("Volumes") or {}), **{p: {} for p in paths}}
        self.config_step("VOLUME " + json.dumps(paths))

    def _cmd(self, cmd: ins.Cmd) -> None:
        self.state.runtime["Cmd"] = metadata.command_args(cmd.command, self.state.shell)
        self.state.cmd_set = True
        self.config_step("CMD " + json.dumps(self.state.runtime["Cmd"]))

    def _entrypoint(self, entrypoint: ins.Entrypoint) -> None:
        args = metadata.command_args(entrypoint.command, self.state.shell)
        self.state.runtime["Entrypoint"] = args
        if not self.state.cmd_set:
            self.state.runtime.pop("Cmd", None)  # Docker: a new ENTRYPOINT resets the base's CMD
        self.config_step("ENTRYPOINT " + json.dumps(args))

    def _shell(self, shell: ins.Shell) -> None:
        self.state.runtime["Shell"] = list(shell.args)
        self.config_step("SHELL " + json.dumps(list(shell.args)))

    def _healthcheck(self, check: ins.Healthcheck) -> None:
        self.state.runtime["Healthcheck"] = metadata.healthcheck(check, self.state.shell)
        self.config_step("HEALTHCHECK " + json.dumps(self.state.runtime["Healthcheck"]))

    def _onbuild(self, onbuild: ins.Onbuild) -> None:
        runtime = self.state.runtime
        runtime["OnBuild"] = [*(runtime.get("OnBuild") or []), onbuild.expression]
        self.config_step("ONBUILD " + onbuild.expression)

    def _workdir(self, workdir: ins.Workdir) -> None:
        path = posixpath.join(
            self.state.runtime.get("WorkingDir") or "/", self.expand(workdir.path)
        )
        path = posixpath.normpath(path)
        self.state.runtime["WorkingDir"] = path
        created_by = f"WORKDIR {path}"
        user = self.state.runtime.get("User") or ""

        def make(step: StepRootfs) -> None:
            from porter_image.build.copier import make_folders
            from porter_image.build.copy_step import owner_of

            # created for the current USER, as BuildKit and buildah do
            make_folders(step.rootfs, path, owner_of(self, user, step.rootfs))

        self.filesystem_step(step_key(self.state.key, created_by), created_by, make, True)

    def _copy(self, copy: ins.Copy) -> None:
        from porter_image.build.copy_step import copy_step

        copy_step(self, copy)

    def _run(self, run: ins.Run) -> None:
        from porter_image.build.run_step import run_step

        run_step(self, run)
