"""The containers router: `/containers/...` parsed into calls on the ContainerService."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import falcon

from porterd.api import query
from porterd.api.body import json_object
from porterd.api.images import request_body
from porterd.clock import filter_until
from porterd.containers import files, streams
from porterd.containers.attach import AttachStreams, parse_detach_keys
from porterd.containers.commit import commit
from porterd.containers.conmon import resize
from porterd.containers.logs import LogQuery
from porterd.containers.service import ContainerService
from porterd.containers.stats import stats_stream
from porterd.containers.views import inspect, summary
from porterd.disk_usage import tree_size
from porterd.errors import Conflict, InvalidParameter

LIST_FILTERS = ("id", "name", "label", "status", "exited", "ancestor", "before", "since")
PRUNE_FILTERS = ("until", "label")


class _Resource:
    def __init__(self, service: ContainerService) -> None:
        self.service = service


class Create(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        container = self.service.create(json_object(req), req.get_param("name") or None)
        resp.status = falcon.HTTP_201
        resp.media = {"Id": container.id, "Warnings": []}


class List(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        wanted = query.filters(req, LIST_FILTERS)
        # each reference resolved once (a 404 for a container that is not there, as dockerd)
        created = {
            reference: self.service.get(reference).created
            for reference in [*wanted.get("before", []), *wanted.get("since", [])]
        }
        show_all = query.flag(req, "all")
        limit = query.integer(req, "limit", -1) or -1
        chosen = [
            c
            for c in self.service.all()
            if (show_all or c.state.status.is_running() or wanted.get("status"))
            and _matches(c, wanted, created)
        ]
        if limit > 0:
            chosen = chosen[:limit]
        documents = [summary(c) for c in chosen]
        if query.flag(req, "size"):
            for container, document in zip(chosen, documents, strict=True):
                document["SizeRw"] = tree_size(self.service.paths(container).upper)
        for container, document in zip(chosen, documents, strict=True):
            health = self.service.monitor.health.of(container)
            if health is not None and container.state.status.value == "running":
                # dockerd's "Up 3 minutes (healthy)", "(health: starting)"
                shown = "health: starting" if health["Status"] == "starting" else health["Status"]
                document["Status"] += f" ({shown})"
        if self.service.networks is not None:
            from porterd.network.views import add_to_summary

            for document in documents:
                add_to_summary(self.service.networks, document)
        resp.media = documents


def _matches(container: Any, wanted: dict[str, list[str]], created: dict[str, str]) -> bool:
    """`created` holds the creation time of each container named by a before/since filter."""
    checks = {
        "before": lambda v: container.created < created[v],
        "since": lambda v: container.created > created[v],
        "id": lambda v: container.id.startswith(v),
        "name": lambda v: v.lstrip("/") in container.name,
        "status": lambda v: container.state.status.value == v,
        "exited": lambda v: (
            container.state.status.value == "exited" and str(container.state.exit_code) == v
        ),
        "ancestor": lambda v: (
            v in (container.image, container.image_id)
            or container.image_id.removeprefix("sha256:").startswith(v)
        ),
        "label": lambda v: _label(container, v),
    }
    return all(any(checks[key](v) for v in values) for key, values in wanted.items())


def _label(container: Any, spec: str) -> bool:
    labels = container.config.get("Labels") or {}
    key, sep, value = spec.partition("=")
    return key in labels and (not sep or labels[key] == value)


class Inspect(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        container = self.service.get(id)
        document = inspect(container, self.service.paths(container))
        document["ExecIDs"] = self.service.execs.ids_of(container.id) or None
        if query.flag(req, "size"):
            document["SizeRw"] = tree_size(self.service.paths(container).upper)
        health = self.service.monitor.health.of(container)
        if health is not None:
            document["State"]["Health"] = health
        if self.service.networks is not None:
            from porterd.network.views import network_settings

            mode = container.host_config.get("NetworkMode") or "default"
            document["NetworkSettings"] = network_settings(
                self.service.networks, container.id, mode
            )
        resp.media = document


class Start(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.service.start(id)
        resp.status = falcon.HTTP_204


class Stop(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.service.stop(id, query.integer(req, "t"), req.get_param("signal") or None)
        resp.status = falcon.HTTP_204


class Restart(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.service.restart(id, query.integer(req, "t"))
        resp.status = falcon.HTTP_204


class Kill(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.service.kill(id, req.get_param("signal") or "SIGKILL")
        resp.status = falcon.HTTP_204


class Pause(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.service.pause(id)
        resp.status = falcon.HTTP_204


class Unpause(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        self.service.unpause(id)
        resp.status = falcon.HTTP_204


class Wait(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        condition = req.get_param("condition") or "not-running"
        version = getattr(req.context, "api_version", "")
        if version and tuple(int(part) for part in version.split(".")) < (1, 30):
            condition = "not-running"  # dockerd reads no condition before API 1.30
        wait = self.service.waiter(id, condition)
        resp.content_type = falcon.MEDIA_JSON
        resp.stream = _answer_when_done(wait, req.env.get("porterd.disconnected"))


def _answer_when_done(
    wait: Callable[[Callable[[], bool]], dict[str, Any] | None],
    disconnected: Callable[[], bool] | None,
) -> Iterator[bytes]:
    answer = wait(disconnected or (lambda: False))
    if answer is not None:
        yield json.dumps(answer).encode() + b"\n"


class Remove(_Resource):
    def on_delete(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        if query.flag(req, "link"):
            raise InvalidParameter("links are not supported")
        self.service.remove(id, force=query.flag(req, "force"), volumes=query.flag(req, "v"))
        resp.status = falcon.HTTP_204


class Rename(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        name = req.get_param("name")
        if not name:
            raise InvalidParameter("name is required")
        self.service.rename(id, name)
        resp.status = falcon.HTTP_204


class Update(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.media = {"Warnings": self.service.update(id, json_object(req))}


class Resize(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        height = query.integer(req, "h", 0, minimum=0) or 0
        width = query.integer(req, "w", 0, minimum=0) or 0
        container = self.service.get(id)
        if not container.state.status.is_running():
            raise Conflict(f"Container {container.id} is not running")
        if container.tty:
            resize(self.service.paths(container).ctl, height, width)
        resp.status = falcon.HTTP_200


class Prune(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        wanted = query.filters(req, PRUNE_FILTERS)
        until = None
        if wanted.get("until"):
            until = int(filter_until(wanted["until"][0]) * 1_000_000_000)
        resp.media = self.service.prune(until, wanted.get("label"))


def logs_query(req: falcon.Request) -> LogQuery:
    """The query of a logs request (a container's, a service's, a task's)."""
    stdout, stderr = query.flag(req, "stdout"), query.flag(req, "stderr")
    if not stdout and not stderr:
        raise InvalidParameter("You must choose at least one stream")
    tail = req.get_param("tail") or "all"
    if tail != "all" and not tail.isdigit():
        raise InvalidParameter(f"invalid value for tail: {tail!r}")
    return LogQuery(
        stdout=stdout,
        stderr=stderr,
        since_ns=query.timestamp(req, "since") or 0,
        until_ns=query.timestamp(req, "until") or 0,
        tail=-1 if tail == "all" else int(tail),
    )


class Logs(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        container = self.service.get(id)
        log_query = logs_query(req)
        resp.content_type = (
            "application/vnd.docker.raw-stream"
            if container.tty
            else "application/vnd.docker.multiplexed-stream"
        )
        resp.stream = streams.log_stream(
            self.service,
            container,
            log_query,
            query.flag(req, "follow"),
            query.flag(req, "timestamps"),
        )


class Attach(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        container = self.service.get(id)
        streams.check_attachable(container)
        wanted = AttachStreams(
            stdin=query.flag(req, "stdin"),
            stdout=query.flag(req, "stdout"),
            stderr=query.flag(req, "stderr"),
            tty=container.tty,
            stdin_once=bool(container.config.get("StdinOnce")) and not container.tty,
            detach_keys=parse_detach_keys(req.get_param("detachKeys")),
        )
        hijack = req.env.get("porterd.hijack")
        if hijack is None:
            raise InvalidParameter("attach needs a connection that can be hijacked")
        streams.attach(
            self.service,
            container,
            hijack,
            wanted,
            logs=query.flag(req, "logs"),
            stream=query.flag(req, "stream"),
        )


class Top(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.media = files.top(
            self.service, self.service.get(id), req.get_param("ps_args") or "-ef"
        )


class Stats(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        container = self.service.get(id)
        stream = query.flag(req, "stream", default=True) and not query.flag(req, "one-shot")
        resp.content_type = falcon.MEDIA_JSON
        resp.stream = stats_stream(self.service, container, stream)


class Changes(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.media = files.changes(self.service, self.service.get(id))


class Export(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.content_type = "application/x-tar"
        resp.stream = files.export(self.service, self.service.get(id))


class Archive(_Resource):
    def on_head(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        stat = files.stat_path(self.service, self.service.get(id), _path(req))
        resp.set_header("X-Docker-Container-Path-Stat", stat)

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        container = self.service.get(id)
        stat, stream = files.archive(self.service, container, _path(req))
        resp.set_header("X-Docker-Container-Path-Stat", stat)
        resp.content_type = "application/x-tar"
        resp.stream = stream

    def on_put(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        container = self.service.get(id)
        files.extract(
            self.service,
            container,
            _path(req),
            request_body(req),
        )
        resp.status = falcon.HTTP_200


def _path(req: falcon.Request) -> str:
    path = req.get_param("path")
    if not path:
        raise InvalidParameter("path is required")
    return path


class Commit(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        ref = req.get_param("container")
        if not ref:
            raise InvalidParameter("container is required")
        container = self.service.get(ref)
        repo, tag = req.get_param("repo") or "", req.get_param("tag") or ""
        if tag and not repo:
            raise InvalidParameter("tag is given without a repository")
        reference = f"{repo}:{tag}" if repo and tag else repo or None
        paused = query.flag(req, "pause", default=True) and container.state.status.can_pause()
        if paused:
            self.service.pause(container.id)
        try:
            image_id = commit(
                self.service,
                container,
                reference,
                comment=req.get_param("comment") or "",
                author=req.get_param("author") or "",
                changes=req.get_param_as_list("changes") or [],
                config=json_object(req),
            )
        finally:
            if paused:
                self.service.unpause(container.id)
        resp.status = falcon.HTTP_201
        resp.media = {"Id": image_id}


def add_routes(app: falcon.App, service: ContainerService) -> None:
    app.add_route("/commit", Commit(service))
    app.add_route("/containers/create", Create(service))
    app.add_route("/containers/json", List(service))
    app.add_route("/containers/prune", Prune(service))
    app.add_route("/containers/{id}", Remove(service))
    for suffix, resource in (
        ("json", Inspect),
        ("start", Start),
        ("stop", Stop),
        ("restart", Restart),
        ("kill", Kill),
        ("pause", Pause),
        ("unpause", Unpause),
        ("wait", Wait),
        ("rename", Rename),
        ("update", Update),
        ("resize", Resize),
        ("logs", Logs),
        ("attach", Attach),
        ("top", Top),
        ("stats", Stats),
        ("changes", Changes),
        ("export", Export),
        ("archive", Archive),
    ):
        app.add_route(f"/containers/{{id}}/{suffix}", resource(service))
