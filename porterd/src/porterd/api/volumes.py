"""Volume routes: `/volumes`, `/volumes/create`, `/volumes/{name}`, `/volumes/prune`."""

from __future__ import annotations

import falcon

from porterd.api import body, query
from porterd.volumes import VolumeService
from porterd.volumes.service import LIST_FILTERS, PRUNE_FILTERS


class VolumeList:
    def __init__(self, volumes: VolumeService) -> None:
        self.volumes = volumes

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        volumes = self.volumes.list(query.filters(req, LIST_FILTERS))
        resp.media = {"Volumes": [volume.to_json() for volume in volumes], "Warnings": []}


class VolumeCreate:
    openapi = {"post": {"responses": {"201": {"description": "created"}}}}

    def __init__(self, volumes: VolumeService) -> None:
        self.volumes = volumes

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        document = body.json_object(req)
        volume = self.volumes.create(
            body.string(document, "Name") or None,
            driver=body.string(document, "Driver", "local") or "local",
            options=body.string_map(document, "DriverOpts"),
            labels=body.string_map(document, "Labels"),
        )
        resp.status = falcon.HTTP_201
        resp.media = volume.to_json()


class VolumeItem:
    openapi = {"delete": {"responses": {"204": {"description": "removed"}}}}

    def __init__(self, volumes: VolumeService) -> None:
        self.volumes = volumes

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        resp.media = self.volumes.get(name).to_json()

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        self.volumes.remove(name, force=query.flag(req, "force"))
        resp.status = falcon.HTTP_204


class VolumePrune:
    def __init__(self, volumes: VolumeService) -> None:
        self.volumes = volumes

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.volumes.prune(query.filters(req, PRUNE_FILTERS))


def add_routes(app: falcon.App, volumes: VolumeService) -> None:
    app.add_route("/volumes", VolumeList(volumes))
    app.add_route("/volumes/create", VolumeCreate(volumes))
    app.add_route("/volumes/prune", VolumePrune(volumes))
    app.add_route("/volumes/{name}", VolumeItem(volumes))
