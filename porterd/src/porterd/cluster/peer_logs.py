"""Task logs between nodes: each node serves its own tasks' logs to the other nodes, and reads
theirs when a client asks it for a service's logs.

What a node serves, on its advertise address and the cluster port (LOG_PORT, or a free port
when that one is taken), is one route, `GET /tasks/{id}/logs` (the Engine API's query: tail,
since, until, timestamps, follow, stdout, stderr), for tasks assigned to that node; nothing
else. It speaks only TLS, with the cluster CA's certificates (porterd.cluster.trust) on both
sides: a client without a certificate signed by that CA is refused in the handshake, one
whose certificate names no node of the cluster (a node removed since) is refused with 403,
and a node checks the server's certificate names the address it dialled. Where a node serves is
kept in etcd:

    PREFIX/logs/ID    https://ADDR:PORT
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import falcon

from porterd.cluster.etcd import EtcdError
from porterd.cluster.logs import TaskLogs, local_task_frames, merged, notice
from porterd.cluster.store import ClusterStore
from porterd.cluster.trust import NodeCredentials, node_credentials
from porterd.containers.framing import HEADER, FrameReader
from porterd.containers.logs import LogQuery
from porterd.errors import DaemonError, Forbidden, NotFound

log = logging.getLogger(__name__)

LOG_PORT = 2377  # swarm's cluster management port; here it serves task logs only
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0  # without follow; with it a quiet task may say nothing for long


def common_name(certificate: dict[str, Any] | None) -> str:
    """The subject's common name of a certificate as ssl.getpeercert() gives it ('' if none)."""
    for rdn in (certificate or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return ""


class _TaskLogsRoute:
    def __init__(self, store: ClusterStore, node_id: str, logs: TaskLogs) -> None:
        self.store, self.node_id, self.logs = store, node_id, logs

    def on_get(self, req: falcon.Request, resp: falcon.Response, id: str) -> None:
        from porterd.api import query
        from porterd.api.containers import logs_query

        peer = common_name(req.env.get("porterd.peer_certificate", lambda: None)())
        if peer not in {node["ID"] for node in self.store.nodes()}:
            raise Forbidden(f"{peer or 'a client'} is not a node of this cluster")
        task = next((t for t in self.store.tasks() if t["ID"] == id), None)
        if task is None or task["NodeID"] != self.node_id:
            raise NotFound(f"task {id} is not on this node")
        log_query = logs_query(req)
        follow, timestamps = query.flag(req, "follow"), query.flag(req, "timestamps")
        gone = req.env.get("porterd.disconnected", lambda: False)
        source = partial(local_task_frames, self.logs, task, log_query, follow, timestamps)
        stream = merged([source], gone) if follow else source(threading.Event())
        resp.content_type = "application/vnd.docker.multiplexed-stream"
        resp.stream = stream


def log_app(store: ClusterStore, node_id: str, logs: TaskLogs) -> falcon.App:
    """The app a node serves to the others: its tasks' logs, nothing else."""
    from porterd.api.app import handle_daemon_error, handle_http_error, handle_unexpected

    app = falcon.App()
    app.req_options.keep_blank_qs_values = True
    app.add_error_handler(Exception, handle_unexpected)  # the Engine API's error answers
    app.add_error_handler(falcon.HTTPError, handle_http_error)
    app.add_error_handler(DaemonError, handle_daemon_error)
    app.add_route("/tasks/{id}/logs", _TaskLogsRoute(store, node_id, logs))
    return app


class LogServer:
    """This node's task logs, served to the other nodes over mutual TLS."""

    def __init__(
        self,
        store: ClusterStore,
        node_id: str,
        address: str,
        logs: TaskLogs,
        credentials: NodeCredentials,
        port: int = LOG_PORT,
    ) -> None:
        from porterd.server import TLSFiles, listen
        from porterd.server.listeners import ListenerError

        tls = TLSFiles(credentials.ca, credentials.cert, credentials.key)
        app = log_app(store, node_id, logs)
        host = f"[{address}]" if ":" in address else address
        try:
            self.listener = listen(f"tcp://{host}:{port}", app, tls=tls)
        except ListenerError as error:  # another porterd on this address holds the port?
            log.warning("%s; serving task logs on a free port instead", error)
            self.listener = listen(f"tcp://{host}:0", app, tls=tls)  # ListenerError if not
        self.url = f"https://{host}:{self.listener.server.server_port}"
        self.store, self.node_id = store, node_id

    def start(self) -> None:
        self.listener.start()

    def advertise(self) -> None:
        """Record where this node serves in etcd (`EtcdError` if it cannot be reached)."""
        self.store.etcd.put(self.store.key("logs", self.node_id), self.url)

    def stop(self) -> None:
        self.listener.stop()


def query_params(query: LogQuery, follow: bool, timestamps: bool) -> dict[str, str]:
    """`query` as the Engine API's logs parameters."""
    params = {
        "stdout": str(int(query.stdout)),
        "stderr": str(int(query.stderr)),
        "tail": "all" if query.tail < 0 else str(query.tail),
        "follow": str(int(follow)),
        "timestamps": str(int(timestamps)),
    }
    for name, nanoseconds in (("since", query.since_ns), ("until", query.until_ns)):
        if nanoseconds:
            params[name] = f"{nanoseconds // 10**9}.{nanoseconds % 10**9:09d}"
    return params


class PeerLogs:
    """Reads the logs of tasks on other nodes from those nodes (a RemoteLogs)."""

    def __init__(self, store: ClusterStore, credentials: NodeCredentials) -> None:
        self.store = store
        self.credentials = credentials

    def frames(
        self, task: dict[str, Any], query: LogQuery, follow: bool, timestamps: bool,
        stop: threading.Event,
    ) -> Iterator[bytes]:  # fmt: skip
        import requests

        found = self.store.etcd.get(self.store.key("logs", task["NodeID"]))
        if found is None:
            yield notice(task, f"the node of task {task['ID']} serves no task logs")
            return
        url = f"{found.value.decode()}/tasks/{task['ID']}/logs"
        try:
            response = requests.get(
                url,
                params=query_params(query, follow, timestamps),
                cert=(str(self.credentials.cert), str(self.credentials.key)),
                verify=str(self.credentials.ca),
                stream=True,
                timeout=(CONNECT_TIMEOUT, None if follow else READ_TIMEOUT),
            )
        except requests.RequestException as error:
            yield notice(task, f"cannot read the logs of task {task['ID']} at {url}: {error}")
            return
        with response:
            if response.status_code != 200:
                message = response.text.strip()
                yield notice(task, f"the logs of task {task['ID']} at {url}: {message}")
                return
            if follow:  # a read blocked on a quiet task ends when the reader goes
                threading.Thread(target=_close_on, args=(stop, response), daemon=True).start()
            yield from _whole_frames(response, task, url)


def _close_on(stop: threading.Event, response: Any) -> None:
    stop.wait()
    response.close()


def _whole_frames(response: Any, task: dict[str, Any], url: str) -> Iterator[bytes]:
    """The response's frames, each whole (so that frames of several tasks can interleave)."""
    import requests

    reader = FrameReader()
    try:
        for chunk in response.iter_content(chunk_size=None):
            for stream, data in reader.feed(chunk):
                yield HEADER.pack(stream, len(data)) + data
    except (requests.RequestException, OSError, AttributeError, ValueError) as error:
        if response.raw is not None and not response.raw.closed:
            yield notice(task, f"reading the logs of task {task['ID']} at {url} broke: {error}")


class LogPeers:
    """Both sides of a node's task logs: serving its own to the other nodes, and reading
    theirs (a RemoteLogs). Starting makes the node's certificate and starts the server on a
    thread of its own, again and again while the store does not answer (a porterd may start
    before its etcd); until then, other nodes' logs are a line saying so."""

    RETRY = 1.0

    def __init__(
        self, store: ClusterStore, node_id: str, address: str, logs: TaskLogs, data_root: Path
    ) -> None:
        self.store, self.node_id, self.address = store, node_id, address
        self.logs, self.data_root = logs, data_root
        self.server: LogServer | None = None
        self._reader: PeerLogs | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="task-log-peers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _serve(self) -> None:
        from porterd.server.listeners import ListenerError

        while not self._stop.is_set():
            try:
                if self.server is None:  # once: a retry is for the store alone
                    credentials = node_credentials(
                        self.store, self.node_id, self.address, self.data_root
                    )
                    self._reader = PeerLogs(self.store, credentials)
                    server = LogServer(
                        self.store, self.node_id, self.address, self.logs, credentials
                    )
                    server.start()
                    self.server = server
                self.server.advertise()
                return
            except EtcdError as error:
                log.warning("task logs between nodes wait for the store: %s", error)
            except ListenerError as error:
                log.error("task logs are not served to the other nodes: %s", error)
                return
            self._stop.wait(self.RETRY)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self.server is not None:
            self.server.stop()

    def frames(
        self, task: dict[str, Any], query: LogQuery, follow: bool, timestamps: bool,
        stop: threading.Event,
    ) -> Iterator[bytes]:  # fmt: skip
        if self._reader is None:
            yield notice(task, "this node cannot read other nodes' task logs yet: see its log")
            return
        yield from self._reader.frames(task, query, follow, timestamps, stop)
