"""The build of a parsed Dockerfile: stages in order, only those the target needs.

    digest = Builder(layout, context, options).build(dockerfile_text)

Each stage starts from its FROM (a stage before it, `scratch`, a tag of the layout, or an
image pulled from a registry into the layout) and runs its instructions (`steps`). The target
stage is committed under the tags at the very end, so a failure leaves no new tag.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from porter_specs.digest import Digest
from porter_specs.errors import PorterError
from porter_specs.models import Descriptor, Platform

from porter_image.build.cache import BUILD_FOLDER, BuildCache, step_key
from porter_image.build.context import BuildContext
from porter_image.build.errors import BuildError
from porter_image.build.options import BuildOptions
from porter_image.build.registry_cache import export_cache, import_cache
from porter_image.build.run_step import PROXY_ARGS
from porter_image.build.state import StageState, scratch_config
from porter_image.build.steps import StageRunner
from porter_image.dockerfile import instructions as ins
from porter_image.dockerfile.lines import LogicalLine
from porter_image.dockerfile.parse import parse_dockerfile, parse_instruction
from porter_image.dockerfile.words import expand_word
from porter_image.errors import TagNotFoundError
from porter_image.image import Image, commit_image, load_image, timestamp
from porter_image.layout import Layout, check_tag

if TYPE_CHECKING:
    from porter_image.build.file_digests import FileDigests
    from porter_image.snapshots import SnapshotStore


def platform_args(platform: Platform, prefix: str) -> dict[str, str]:
    spec = f"{platform.os}/{platform.architecture}" + (
        f"/{platform.variant}" if platform.variant else ""
    )
    return {
        f"{prefix}PLATFORM": spec,
        f"{prefix}OS": platform.os,
        f"{prefix}ARCH": platform.architecture,
        f"{prefix}VARIANT": platform.variant or "",
    }


class Builder:
    def __init__(self, layout: Layout, context: BuildContext, options: BuildOptions) -> None:
        self.layout = layout
        self.context = context
        self.options = options
        self.platform = options.platform or Platform.host()
        self.cache = BuildCache(layout)
        # absolute, as the runtime is handed bundles and mounts below it from another folder
        self.root = Path(layout.path).absolute() / BUILD_FOLDER
        self.created = timestamp(options.source_date_epoch)
        # what changes every layer's bytes is part of every key: SOURCE_DATE_EPOCH (mtimes,
        # created times) and the layers' compression
        self.salt = json.dumps([options.source_date_epoch, options.compression])
        self.stages: dict[int, StageState] = {}
        self.consumed: set[str] = set(PROXY_ARGS)  # build args some ARG declared

    @functools.cached_property
    def workspace(self) -> Path:
        """This build's scratch folder (step bundles, downloads), made when a step first needs
        it, so that a fully cached build writes nothing there."""
        folder = self.root / "tmp" / os.urandom(6).hex()
        folder.mkdir(parents=True)
        return folder

    @functools.cached_property
    def file_digests(self) -> FileDigests | None:
        """The digests of context files, kept between builds (see build.file_digests); None
        for a temporary context, whose folders no later build sees again: their memo files
        would pile up below the layout, as every build from a tar has a new folder."""
        from porter_image.build.file_digests import MEMO, FileDigests

        return None if self.context.temporary else FileDigests(self.root / MEMO)

    @functools.cached_property
    def snapshots(self) -> SnapshotStore:
        """The layer snapshots of builds into this layout (made on the first uncached step)."""
        from porter_image.snapshots import SnapshotStore

        return SnapshotStore(self.root / "snapshots")

    def build(self, text: str) -> Descriptor:
        """Build the target stage and tag it; the layout's writers' lock is held throughout,
        so a gc waits rather than removing the layers of steps not tagged yet."""
        dockerfile = parse_dockerfile(text, self.options.dockerfile)
        try:
            with self.layout.writing():
                descriptor = self._build(dockerfile)
            digests = self.__dict__.get("file_digests")  # only when a step hashed files
            error = digests.close() if digests is not None else None
            if error is not None:  # the image is made and tagged: housekeeping never fails it
                self.options.report(f"warning: the memo of context file digests: {error}")
            return descriptor
        finally:
            if "workspace" in self.__dict__:
                from porter_image.build.remove_tree import remove_tree

                remove_tree(self.workspace)

    def _build(self, dockerfile: ins.Dockerfile) -> Descriptor:
        frontend_warning = dockerfile.directives.frontend_warning()
        if frontend_warning:
            self.options.report(frontend_warning)
        global_scope = self._global_args(dockerfile)
        target = self._target(dockerfile)
        self._import_caches()
        for stage in dockerfile.stages[: target.index + 1]:
            if stage.index in self._needed(dockerfile, target, global_scope):
                self.stages[stage.index] = self._build_stage(dockerfile, stage, global_scope)
        unused = sorted(set(self.options.build_args) - self.consumed)
        if unused:
            self.options.report(f"warning: build-args not consumed: {', '.join(unused)}")
        for ref in self.options.cache_to:
            self.options.report(f"exporting the cache to {ref}")
            export_cache(self.cache, ref, self._copy)
        return self._commit(self.stages[target.index])

    # -- registry caches -----------------------------------------------------------------------

    def _copy(self, src: str, dst: str) -> None:
        from porter_image.copy import CopyOptions, copy_image

        options = CopyOptions(insecure_registries=self.options.insecure_registries)
        copy_image(src, dst, options)

    def _import_caches(self) -> None:
        """Entries of each --cache-from artifact; one that cannot be read is a warning, as
        with docker (the build then runs those steps)."""
        for ref in self.options.cache_from:
            try:
                added = import_cache(self.cache, ref, self._copy)
            except PorterError as exc:
                self.options.report(f"warning: --cache-from {ref}: {exc}")
            else:
                self.options.report(f"imported {added} cache entries from {ref}")

    # -- planning ------------------------------------------------------------------------------

    def _global_args(self, dockerfile: ins.Dockerfile) -> dict[str, str]:
        scope = {
            **platform_args(self.platform, "TARGET"),
            **platform_args(Platform.host(), "BUILD"),
        }
        for arg in dockerfile.global_args:
            for name, default in arg.pairs:
                self.consumed.add(name)
                if name in self.options.build_args:
                    scope[name] = self.options.build_args[name]
                elif default is not None:
                    scope[name] = expand_word(default, scope, dockerfile.directives.escape)
        return scope

    def _target(self, dockerfile: ins.Dockerfile) -> ins.Stage:
        if not self.options.target:
            return dockerfile.stages[-1]
        for stage in dockerfile.stages:
            if stage.name == self.options.target.lower():
                return stage
        raise BuildError("build", f"target stage {self.options.target!r} not found")

    def stage_by_name(self, dockerfile: ins.Dockerfile, name: str, before: int) -> ins.Stage | None:
        """The stage `name` (or index) refers to, among those before index `before`."""
        for stage in dockerfile.stages:
            if (stage.name and stage.name == name.lower()) or str(stage.index) == name:
                if stage.index >= before:
                    where = f"{dockerfile.file}:{dockerfile.stages[before].base.line}: FROM"
                    if stage.index == before:
                        raise BuildError(where, f"stage {name!r} depends on itself")
                    return None
                return stage
        return None

    def _needed(
        self, dockerfile: ins.Dockerfile, target: ins.Stage, scope: dict[str, str]
    ) -> set[int]:
        needed: set[int] = set()
        pending = [target]
        while pending:
            stage = pending.pop()
            if stage.index in needed:
                continue
            needed.add(stage.index)
            for name in self._references(dockerfile, stage, scope):
                found = self.stage_by_name(dockerfile, name, stage.index)
                if found is not None:
                    pending.append(found)
        return needed

    def _references(
        self, dockerfile: ins.Dockerfile, stage: ins.Stage, scope: dict[str, str]
    ) -> list[str]:
        escape = dockerfile.directives.escape
        names = [expand_word(stage.base.image, scope, escape)]
        for instruction in stage.instructions:
            if isinstance(instruction, ins.Copy) and instruction.from_:
                names.append(expand_word(instruction.from_, scope, escape))
            if isinstance(instruction, ins.Run):
                names += [m.get("from") for m in instruction.mounts if m.get("from")]
        return names

    # -- stages --------------------------------------------------------------------------------

    def _build_stage(
        self, dockerfile: ins.Dockerfile, stage: ins.Stage, scope: dict[str, str]
    ) -> StageState:
        escape = dockerfile.directives.escape
        where = f"{dockerfile.file}:{stage.base.line}: FROM"
        image = expand_word(stage.base.image, scope, escape)
        self.options.report(f"[stage {stage.index}] FROM {image}")
        platform = self.platform
        if stage.base.platform:
            text = expand_word(stage.base.platform, scope, escape)
            try:
                platform = Platform.parse(text)
            except PorterError as exc:
                raise BuildError(where, f"--platform={text}: {exc}") from exc
        state = self._base(dockerfile, stage, image, where, platform)
        runner = StageRunner(self, dockerfile, stage, state, scope)
        triggers = state.runtime.pop("OnBuild", None) or []
        for text in triggers:
            keyword, _, args = text.strip().partition(" ")
            line = LogicalLine(stage.base.line, keyword.upper(), args.strip())
            runner.run(parse_instruction(line, f"{dockerfile.file} (ONBUILD of {image})", escape))
        for instruction in stage.instructions:
            runner.run(instruction)
        return state

    def _base(
        self,
        dockerfile: ins.Dockerfile,
        stage: ins.Stage,
        image: str,
        where: str,
        platform: Platform,
    ) -> StageState:
        earlier = self.stage_by_name(dockerfile, image, stage.index)
        if earlier is not None:
            if earlier.index not in self.stages:
                raise BuildError(where, f"stage {image!r} was not built")
            return self.stages[earlier.index].fork()
        if image.lower() == "scratch":
            key = step_key(self.salt, "scratch", str(platform))
            return StageState(scratch_config(platform), [], key, self.created)
        return self.image_state(image, where, platform)

    def image_state(self, image: str, where: str, platform: Platform | None = None) -> StageState:
        """The start of a stage on an image: a tag of the layout, else pulled from a registry.

        A tag's image is read (and schema-checked) once per manifest; later builds take its
        config and layers from the cache, so a fully cached build checks no JSON schema."""
        platform = platform or self.platform
        if not self.options.pull:
            with contextlib.suppress(ValueError, TagNotFoundError):
                top = self.layout.resolve(check_tag(image))
                seen = step_key("base", str(top.digest), str(platform))
                document = self.cache.read(seen)
                if document is None:
                    loaded = load_image(self.layout, check_tag(image), platform)
                    document = {
                        "config": loaded.config_json,
                        "layers": [layer.to_json() for layer in loaded.manifest.layers],
                        "manifest": str(loaded.descriptor.digest),
                    }
                    self.cache.write(seen, document)
                return self._state_of(document)
        loaded = self._pull(image, where, platform)
        layers = [layer.to_json() for layer in loaded.manifest.layers]
        manifest = str(loaded.descriptor.digest)
        return self._state_of(
            {"config": loaded.config_json, "layers": layers, "manifest": manifest}
        )

    def _state_of(self, document: dict[str, Any]) -> StageState:
        config = copy.deepcopy(document["config"])
        config.setdefault("config", {})
        layers = [Descriptor.from_json(layer) for layer in document["layers"]]
        key = step_key(self.salt, "FROM", document["manifest"])
        return StageState(config, layers, key, self.created)

    def _pull(self, image: str, where: str, platform: Platform) -> Image:
        from porter_image.copy import CopyOptions, copy_image

        tag = f"porter-build-base-{os.urandom(6).hex()}"
        options = CopyOptions(
            platform=platform, insecure_registries=self.options.insecure_registries
        )
        try:
            copy_image(f"docker://{image}", f"{self.layout.path}:{tag}", options)
            return load_image(self.layout, tag, platform)
        except PorterError as exc:
            raise BuildError(where, f"{image}: {exc}") from exc
        finally:
            if tag in self.layout.tags():
                self.layout.remove_tag(tag)

    # -- result --------------------------------------------------------------------------------

    def _commit(self, state: StageState) -> Descriptor:
        config = state.config
        if self.options.labels:
            runtime = state.runtime
            runtime["Labels"] = {**(runtime.get("Labels") or {}), **self.options.labels}
        history = config.get("history") or [{}]
        config["created"] = history[-1].get("created") or self.created
        tags = [check_tag(tag) for tag in self.options.tags]
        committed = step_key(state.key, "commit", json.dumps(config, sort_keys=True))
        with self.layout.writing():
            document = self.cache.read(committed)
            if document is not None and self.layout.has_blob(Digest.parse(document["digest"])):
                descriptor = Descriptor.from_json(document)  # this very image, committed before
            else:
                descriptor = commit_image(self.layout, tags[0], config, tuple(state.layers))
                self.cache.write(committed, descriptor.to_json())
            for tag in tags:
                self.layout.set_tag(tag, descriptor)
        return descriptor
