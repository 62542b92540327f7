"""An etcd v3 client over etcd's JSON gateway (grpc-gateway), with requests.

Keys and values travel base64-encoded and 64-bit integers as JSON strings; this module hides
both. A request goes to the endpoint that answered last; when it cannot be reached (refused,
reset, timed out) the next one is tried, so a dead member is stepped over. When the members
that answer cannot reach agreement (no quorum) the request fails with `NoQuorum`, an
`Unavailable` that says so in one line.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from porterd.errors import Unavailable

# What an etcd member answers when it cannot commit or read linearizably: the cluster has lost
# its leader or cannot elect one.
QUORUM_MESSAGES = (
    "request timed out",
    "leader changed",
    "no leader",
    "not capable",
    "timed out waiting for read index",
)


class EtcdError(Unavailable):
    """The cluster store refused or failed a request."""


class NoQuorum(EtcdError):
    """The members reached cannot agree: changes and linearizable reads fail until it is back."""


class Unreachable(EtcdError):
    """No endpoint of the cluster store answered."""


class WatchCompacted(EtcdError):
    """A watch the store ended, most often because it started at a revision compacted away:
    what changed since is unknown."""

    def __init__(self, message: str, revision: int) -> None:
        super().__init__(message)
        self.revision = revision


class LeaseNotFound(EtcdError):
    """A lease that expired or was revoked (keep-alive answered with a TTL of 0)."""

    status = 404


def encode(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def decode(text: str) -> bytes:
    return base64.b64decode(text)


def prefix_end(prefix: str) -> bytes:
    """The first key after every key that starts with `prefix` (etcd's range_end for a prefix)."""
    raw = bytearray(prefix.encode())
    while raw:
        if raw[-1] < 0xFF:
            raw[-1] += 1
            return bytes(raw)
        raw.pop()
    return b"\0"


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: bytes
    create_revision: int
    mod_revision: int
    version: int
    lease: int

    @classmethod
    def from_json(cls, kv: dict[str, Any]) -> KeyValue:
        return cls(
            key=decode(kv["key"]).decode(),
            value=decode(kv.get("value", "")),
            create_revision=int(kv.get("create_revision", 0)),
            mod_revision=int(kv.get("mod_revision", 0)),
            version=int(kv.get("version", 0)),
            lease=int(kv.get("lease", 0)),
        )

    def json(self) -> Any:
        return json.loads(self.value)


@dataclass(frozen=True)
class Compare:
    """One condition of a transaction: `target` of `key` compared with `value`."""

    key: str
    target: str  # VERSION, CREATE, MOD, VALUE, LEASE
    result: str  # EQUAL, NOT_EQUAL, GREATER, LESS
    value: int | str | bytes
    prefix: bool = False  # every key under `key` must hold (none at all compares as zero)

    def to_json(self) -> dict[str, Any]:
        field_name = {
            "VERSION": "version",
            "CREATE": "create_revision",
            "MOD": "mod_revision",
            "VALUE": "value",
            "LEASE": "lease",
        }[self.target]
        value = self.value
        rendered = encode(value) if field_name == "value" else str(value)  # type: ignore[arg-type]
        return {
            **key_range(self.key, self.prefix),
            "target": self.target,
            "result": self.result,
            field_name: rendered,
        }


def key_missing(key: str) -> Compare:
    return Compare(key, "CREATE", "EQUAL", 0)


def key_at(key: str, mod_revision: int) -> Compare:
    return Compare(key, "MOD", "EQUAL", mod_revision)


@dataclass(frozen=True)
class Put:
    key: str
    value: str | bytes
    lease: int = 0

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"key": encode(self.key), "value": encode(self.value)}
        if self.lease:
            body["lease"] = str(self.lease)
        return {"request_put": body}


def key_range(key: str, prefix: bool) -> dict[str, str]:
    """The request fields naming `key`, or every key under it when `prefix`."""
    body = {"key": encode(key)}
    if prefix:
        body["range_end"] = encode(prefix_end(key))
    return body


@dataclass(frozen=True)
class Delete:
    key: str
    prefix: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"request_delete_range": key_range(self.key, self.prefix)}


@dataclass(frozen=True)
class Get:
    key: str
    prefix: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"request_range": key_range(self.key, self.prefix)}


Operation = Put | Delete | Get


@dataclass(frozen=True)
class TxnResult:
    succeeded: bool
    revision: int
    # One list of key-values per Get of the branch that ran (empty lists for puts and deletes).
    ranges: list[list[KeyValue]] = field(default_factory=list)


@dataclass(frozen=True)
class WatchEvent:
    type: str  # PUT or DELETE
    kv: KeyValue


class EtcdClient:
    """The cluster store at `endpoints` (http://host:port URLs); thread-safe."""

    def __init__(self, endpoints: Sequence[str], *, timeout: float = 5.0) -> None:
        if not endpoints:
            raise ValueError("the cluster store needs at least one endpoint")
        self.endpoints = [endpoint.rstrip("/") for endpoint in endpoints]
        self.timeout = timeout
        self._current = 0
        self._lock = threading.Lock()
        self._local = threading.local()

    # -- transport ---------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _order(self) -> list[int]:
        with self._lock:
            start = self._current
        return [(start + step) % len(self.endpoints) for step in range(len(self.endpoints))]

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `path` on the first endpoint that answers; its decoded JSON answer."""
        failures: list[str] = []
        quorum_failure: str | None = None
        for index in self._order():
            endpoint = self.endpoints[index]
            try:
                response = self._session().post(
                    endpoint + path, data=json.dumps(body), timeout=self.timeout
                )
            except requests.Timeout:
                # A member that accepted the connection but could not answer in time is most
                # often one that has lost its peers: say so if no other member does better.
                quorum_failure = f"{endpoint} did not answer within {self.timeout:g}s"
                continue
            except requests.ConnectionError as error:
                failures.append(f"{endpoint}: {_reason(error)}")
                continue
            answer = _json(response)
            message = str(answer.get("error") or answer.get("message") or "")
            if response.status_code != 200 or message:
                if any(text in message for text in QUORUM_MESSAGES):
                    quorum_failure = f"{endpoint}: {message}"
                    continue
                raise EtcdError(f"cluster store {endpoint}{path}: {message or response.text}")
            with self._lock:
                self._current = index
            return answer
        if quorum_failure is not None:
            raise NoQuorum(f"the cluster store has no quorum ({quorum_failure})")
        raise Unreachable("no cluster store endpoint answered: " + "; ".join(failures))

    # -- key-value ---------------------------------------------------------------------------

    def get(self, key: str, *, serializable: bool = False) -> KeyValue | None:
        found = self.range(key, serializable=serializable)
        return found[0] if found else None

    def range(
        self, key: str, *, prefix: bool = False, serializable: bool = False, limit: int = 0
    ) -> list[KeyValue]:
        return self.range_at(key, prefix=prefix, serializable=serializable, limit=limit)[0]

    def range_at(
        self, key: str, *, prefix: bool = False, serializable: bool = False, limit: int = 0
    ) -> tuple[list[KeyValue], int]:
        """The key-values and the store's revision they were read at."""
        body: dict[str, Any] = key_range(key, prefix)
        if serializable:
            body["serializable"] = True
        if limit:
            body["limit"] = str(limit)
        answer = self.call("/v3/kv/range", body)
        return [KeyValue.from_json(kv) for kv in answer.get("kvs", [])], _revision(answer)

    def prefix(self, prefix: str, *, serializable: bool = False) -> list[KeyValue]:
        return self.range(prefix, prefix=True, serializable=serializable)

    def put(self, key: str, value: str | bytes, *, lease: int = 0) -> int:
        """Store `value` at `key`; the store's revision afterwards."""
        body = Put(key, value, lease).to_json()["request_put"]
        answer = self.call("/v3/kv/put", body)
        return _revision(answer)

    def delete(self, key: str, *, prefix: bool = False) -> int:
        """Remove `key` (or every key under it); how many were removed."""
        body = Delete(key, prefix).to_json()["request_delete_range"]
        answer = self.call("/v3/kv/deleterange", body)
        return int(answer.get("deleted", 0))

    def txn(
        self,
        compare: Sequence[Compare],
        success: Sequence[Operation],
        failure: Sequence[Operation] = (),
    ) -> TxnResult:
        """If every comparison holds, run `success`, otherwise `failure`: all in one revision."""
        answer = self.call(
            "/v3/kv/txn",
            {
                "compare": [item.to_json() for item in compare],
                "success": [item.to_json() for item in success],
                "failure": [item.to_json() for item in failure],
            },
        )
        ranges = [
            [KeyValue.from_json(kv) for kv in item["response_range"].get("kvs", [])]
            for item in answer.get("responses", [])
            if "response_range" in item
        ]
        return TxnResult(
            succeeded=bool(answer.get("succeeded", False)),
            revision=_revision(answer),
            ranges=ranges,
        )

    # -- leases ------------------------------------------------------------------------------

    def grant(self, ttl: int) -> int:
        """A new lease of `ttl` seconds; its id."""
        answer = self.call("/v3/lease/grant", {"TTL": str(ttl)})
        return int(answer["ID"])

    def keepalive(self, lease: int) -> int:
        """Renew `lease` once; its TTL afterwards. `LeaseNotFound` if it has expired."""
        answer = self.call("/v3/lease/keepalive", {"ID": str(lease)})
        ttl = int(answer.get("result", {}).get("TTL", 0))
        if ttl <= 0:
            raise LeaseNotFound(f"lease {lease:x} has expired")
        return ttl

    def revoke(self, lease: int) -> None:
        """End `lease` and remove the keys attached to it (an unknown lease is not an error)."""
        try:
            self.call("/v3/lease/revoke", {"ID": str(lease)})
        except EtcdError as error:
            if "requested lease not found" not in str(error):
                raise

    def time_to_live(self, lease: int) -> int:
        """The seconds `lease` has left, or -1 if it is gone."""
        answer = self.call("/v3/lease/timetolive", {"ID": str(lease)})
        return int(answer.get("TTL", -1))

    # -- watch -------------------------------------------------------------------------------

    def watch(
        self,
        key: str,
        *,
        prefix: bool = False,
        start_revision: int = 0,
        idle: float | None = None,
    ) -> Iterator[WatchEvent]:
        """The changes to `key` (or the keys under it) as they happen, from `start_revision`.

        The stream is read from one endpoint; if it breaks (or stays silent `idle` seconds),
        the iterator ends, and the caller watches again from the revision after the last event
        it saw. `WatchCompacted` if that revision is gone.
        """
        create: dict[str, Any] = key_range(key, prefix)
        if start_revision:
            create["start_revision"] = str(start_revision)
        body = json.dumps({"create_request": create})
        for index in self._order():
            endpoint = self.endpoints[index]
            try:
                response = requests.post(
                    endpoint + "/v3/watch", data=body, stream=True, timeout=(self.timeout, idle)
                )
            except (requests.ConnectionError, requests.Timeout):
                continue
            yield from _watch_events(response)
            return
        raise Unreachable("no cluster store endpoint answered the watch")


def _watch_events(response: requests.Response) -> Iterator[WatchEvent]:
    with response:
        try:
            for line in response.iter_lines():
                if not line:
                    continue
                result = json.loads(line).get("result", {})
                if result.get("canceled"):
                    # Compacted past the start (or cancelled for another reason): the changes
                    # since cannot be replayed.
                    compacted = int(result.get("compact_revision", 0))
                    reason = result.get("cancel_reason") or (
                        f"history compacted up to revision {compacted}"
                    )
                    raise WatchCompacted(f"the cluster store ended a watch: {reason}", compacted)
                for event in result.get("events", []):
                    yield WatchEvent(event.get("type", "PUT"), KeyValue.from_json(event["kv"]))
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            return


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError:
        return {"error": response.text.strip() or f"HTTP {response.status_code}"}
    return answer if isinstance(answer, dict) else {}


def _revision(answer: dict[str, Any]) -> int:
    """The store's revision an answer was given at (its header's; 0 if it has none)."""
    return int(answer.get("header", {}).get("revision", 0))


def _reason(error: Exception) -> str:
    text = str(error)
    for marker in ("Connection refused", "No route to host", "Connection reset"):
        if marker in text:
            return marker.lower()
    return text.splitlines()[0][:120] if text else type(error).__name__
