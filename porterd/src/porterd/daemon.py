"""The Daemon: every service of porterd composed over one data root, and its life cycle.

`Daemon(config)` takes the data root's lock, opens the state database and builds the event
bus, the volume service, the image store and the container service, wiring each to the ones it
needs. The API gets the daemon; the system routes ask it for `version`, `info` and
`disk_usage`. `serve(config)` runs it: listeners up, pid file written, and on SIGTERM or SIGINT
a clean stop that leaves the containers running under their conmon.
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from pathlib import Path
from typing import Any

from porterd.config import DaemonConfig
from porterd.events import EventBus
from porterd.runfiles import DataRootLock, remove_pidfile, write_pidfile
from porterd.state import Database
from porterd.volumes import VolumeService

log = logging.getLogger("porterd")


class Daemon:
    def __init__(self, config: DaemonConfig) -> None:
        self.config = config
        self.data_root = config.data_root
        self.exec_root = config.exec_root
        self.data_root.mkdir(parents=True, exist_ok=True, mode=0o711)
        self.exec_root.mkdir(parents=True, exist_ok=True, mode=0o711)
        self._lock = DataRootLock(self.data_root)
        try:
            self._build()
        except BaseException:
            self._lock.release()
            raise

    def _build(self) -> None:
        self.id = _engine_id(self.data_root / "engine-id")
        self.database = Database(self.data_root / "porterd.db")
        self.events = EventBus()
        self.volumes = VolumeService(
            database=self.database, events=self.events, root=self.data_root / "volumes"
        )
        from porterd.containers.service import ContainerService, default_runtimes
        from porterd.images import ImageStore
        from porterd.images.registry import RegistrySettings

        self.images = ImageStore(
            data_root=self.data_root,
            events=self.events,
            registry=RegistrySettings(
                insecure_registries=self.config.insecure_registries,
                registry_mirrors=self.config.registry_mirrors,
            ),
        )
        self.runtimes = {**default_runtimes(), **self.config.runtimes}
        from porterd.network import NetworkService

        self.networks = NetworkService(
            database=self.database,
            exec_root=self.exec_root,
            events=self.events,
            bip=self.config.bip,
            default_address_pools=self.config.default_address_pools,
            icc=self.config.icc,
        )
        self.containers = ContainerService(
            database=self.database,
            events=self.events,
            images=self.images,
            volumes=self.volumes,
            runtimes=self.runtimes,
            exec_root=self.exec_root,
            data_root=self.data_root,
            default_runtime=self.config.default_runtime,
            networks=self.networks,
        )
        self.networks.containers = self.containers
        self.networks.recover({c.id: c.state.status.is_running() for c in self.containers.all()})
        self.images.usage = self.containers
        from porterd.building import BuildService

        self.builds = BuildService(
            images=self.images, runtime=self.runtimes[self.config.default_runtime]
        )
        self.volumes.set_users(self.volume_users)
        self.cluster = self._join_cluster()

    def _join_cluster(self) -> Any:
        """With --cluster-store: this porterd as a node of that cluster (porterd.cluster)."""
        if not self.config.cluster_store:
            return None
        from porterd.cluster.containers import ContainerTasks
        from porterd.cluster.mesh import NetworkMeshHost
        from porterd.cluster.node import ClusterNode, parse_endpoints
        from porterd.cluster.overlay import ClusterOverlays

        node = ClusterNode(
            endpoints=parse_endpoints(self.config.cluster_store),
            advertise_addr=self.config.advertise_addr,
            data_root=self.data_root,
            runtime=ContainerTasks(self.containers, self.images),
            images=self.images,
            events=self.events,
            mesh=NetworkMeshHost(self.networks),
        )
        # before the agent starts tasks, which may join overlay networks
        overlays = ClusterOverlays(node.store, node.node_id, node.advertise_addr, watch=node.watch)
        overlays.attach(self.networks)
        node.start()
        return node

    # --- what services ask of each other ------------------------------------------------------

    def volume_users(self, name: str) -> list[str]:
        """Ids of the containers that mount volume `name` (removal is refused while any do)."""
        return [
            container.id
            for container in self.containers.all()
            if any(
                mount.get("Type") == "volume" and mount.get("Name") == name
                for mount in container.mounts
            )
        ]

    # --- the system routes' backend -------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        from porterd.system_info import version_document

        return version_document()

    def info(self) -> dict[str, Any]:
        from porterd.api.app import PORTER_VERSION
        from porterd.system_info import backing_filesystem, host_facts

        statuses = [container.state.status.value for container in self.containers.all()]
        return {
            "ID": self.id,
            "Containers": len(statuses),
            "ContainersRunning": statuses.count("running") + statuses.count("restarting"),
            "ContainersPaused": statuses.count("paused"),
            "ContainersStopped": len(statuses)
            - statuses.count("running")
            - statuses.count("restarting")
            - statuses.count("paused"),
            "Images": len(self.images.images()),
            "Driver": "overlay2",
            "DriverStatus": [
                ["Backing Filesystem", backing_filesystem(self.data_root)],
                ["Supports d_type", "true"],
            ],
            "DockerRootDir": str(self.data_root),
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "host", "null"],
                "Authorization": None,
                "Log": ["json-file"],
            },
            "Debug": self.config.log_level == "debug",
            "LoggingDriver": "json-file",
            "NEventsListener": self.events.listeners,
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": self._registry_config(),
            "GenericResources": None,
            "Labels": [],
            "ExperimentalBuild": False,
            "ServerVersion": PORTER_VERSION,
            "Runtimes": {name: {"path": path} for name, path in self.runtimes.items()},
            "DefaultRuntime": self.config.default_runtime,
            "Swarm": self.cluster.swarm_info()
            if self.cluster is not None
            else {
                "NodeID": "",
                "NodeAddr": "",
                "LocalNodeState": "inactive",
                "ControlAvailable": False,
                "Error": "",
                "RemoteManagers": None,
            },
            "LiveRestoreEnabled": True,  # containers run on under conmon while porterd is down
            "Isolation": "",
            "InitBinary": "",
            "ContainerdCommit": {"ID": "", "Expected": ""},
            "RuncCommit": {"ID": "", "Expected": ""},
            "InitCommit": {"ID": "", "Expected": ""},
            "SecurityOptions": ["name=seccomp,profile=builtin", "name=cgroupns"],
            "DefaultAddressPools": [],
            "Warnings": [],
            **host_facts(),
        }

    def _registry_config(self) -> dict[str, Any]:
        insecure = list(self.config.insecure_registries)
        return {
            "AllowNondistributableArtifactsCIDRs": [],
            "AllowNondistributableArtifactsHostnames": [],
            "InsecureRegistryCIDRs": [r for r in insecure if "/" in r] + ["127.0.0.0/8"],
            "IndexConfigs": {
                "docker.io": {
                    "Name": "docker.io",
                    "Mirrors": list(self.config.registry_mirrors),
                    "Secure": True,
                    "Official": True,
                },
                **{
                    name: {"Name": name, "Mirrors": [], "Secure": False, "Official": False}
                    for name in insecure
                    if "/" not in name
                },
            },
            "Mirrors": list(self.config.registry_mirrors),
        }

    def disk_usage(self, kinds: set[str]) -> dict[str, Any]:
        """`/system/df`: the parts named in `kinds` (container, image, volume, build-cache)."""
        from porterd.containers import views
        from porterd.images import docker_json

        containers = self.containers.all()
        document: dict[str, Any] = {"LayersSize": 0}
        if "image" in kinds:
            stored = self.images.images()
            document["LayersSize"] = sum(image.size for image in stored)
            document["Images"] = [
                docker_json.summary(
                    image, sum(1 for container in containers if container.image_id == image.id)
                )
                for image in stored
            ]
        if "container" in kinds:
            document["Containers"] = [views.summary(container) for container in containers]
        if "volume" in kinds:
            document["Volumes"] = self.volumes.usage()
        if "build-cache" in kinds:
            document["BuildCache"] = []
        return document

    def close(self) -> None:
        """Stop watching and release the data root; containers go on under their conmon."""
        if self.cluster is not None:
            self.networks.overlay.stop()
            self.cluster.stop()
        self.events.close()
        self.containers.close()
        self.networks.close()
        self.database.close()
        self._lock.release()


def _engine_id(path: Path) -> str:
    """A stable id of this porterd's data root (dockerd's engine ID)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        identity = str(uuid.uuid4())
        path.write_text(identity + "\n")
        return identity


def serve(config: DaemonConfig) -> None:
    """Run porterd until SIGTERM or SIGINT."""
    from porterd.api.app import create_app
    from porterd.server import TLSFiles, listen

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, frame: stop.set())
    daemon = Daemon(config)
    listeners = []
    try:
        write_pidfile(config.pid_path)
        app = create_app(daemon)
        tls = None
        if config.tlsverify:
            assert config.tlscacert and config.tlscert and config.tlskey
            tls = TLSFiles(config.tlscacert, config.tlscert, config.tlskey)
        for host in config.listen:
            listener = listen(host, app, tls=tls)
            listeners.append(listener)
            listener.start()
            log.info("API listening on %s", host)
        log.info("porterd ready (data root %s)", config.data_root)
        while not stop.wait(3600):
            pass
        log.info("porterd stopping (containers keep running)")
    finally:
        for listener in listeners:
            listener.stop()
        daemon.close()
        remove_pidfile(config.pid_path)
