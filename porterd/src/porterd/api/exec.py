"""The exec router: `POST /containers/{id}/exec`, `/exec/{id}/start|resize|json`."""

from __future__ import annotations

import falcon

from porterd.api import query
from porterd.api.body import json_object
from porterd.containers.service import ContainerService
from porterd.errors import InvalidParameter


class _Resource:
    def __init__(self, service: ContainerService) -> None:
        self.service = service


class Create(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.status = falcon.HTTP_201
        resp.media = {"Id": self.service.execs.create(id, json_object(req))}


class Start(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        options = json_object(req)
        session = self.service.execs.get(id)
        tty = options.get("Tty")
        if options.get("ConsoleSize") is not None:
            session.config["ConsoleSize"] = options["ConsoleSize"]
        if options.get("Detach"):
            self.service.execs.start(id, None, tty)
            resp.status = falcon.HTTP_200
            return
        hijack = req.env.get("porterd.hijack")
        if hijack is None:
            raise InvalidParameter("exec start needs a connection that can be hijacked")
        self.service.execs.start(id, hijack, tty)


class Resize(_Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        height = query.integer(req, "h", 0, minimum=0) or 0
        width = query.integer(req, "w", 0, minimum=0) or 0
        self.service.execs.resize(id, height, width)
        resp.status = falcon.HTTP_201


class Inspect(_Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        resp.media = self.service.execs.get(id).inspect()


def add_routes(app: falcon.App, service: ContainerService) -> None:
    app.add_route("/containers/{id}/exec", Create(service))
    app.add_route("/exec/{id}/start", Start(service))
    app.add_route("/exec/{id}/resize", Resize(service))
    app.add_route("/exec/{id}/json", Inspect(service))
