"""The cluster's trust root: a CA kept in etcd, and each node's certificate signed by it.

    PREFIX/ca    {"Cert": PEM, "Key": PEM}: the cluster CA

etcd is what the nodes already trust (whoever can write to it commands the cluster), so the
CA lives there. The first node to start makes it in one transaction (put only if the key is
missing); a node that loses that race takes the winner's. Each node makes a key of its own,
which never leaves it, and a certificate for its node id and advertise address (an IP or DNS
subject alternative name), good as server and as client; the files (the CA's certificate, the
node's certificate and key) are written under DATA_ROOT/cluster/tls, readable by root only.
Nodes present these certificates to each other and refuse peers without one (mutual TLS).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from porterd.cluster.etcd import Get, Put, key_missing
from porterd.cluster.store import ClusterStore

CA_VALIDITY = datetime.timedelta(days=3650)
NODE_VALIDITY = datetime.timedelta(days=365)
ORGANIZATION = "porter cluster"


@dataclass(frozen=True)
class NodeCredentials:
    """The files a node's TLS needs: the cluster CA, its certificate and its key."""

    ca: Path
    cert: Path
    key: Path


def make_ca() -> dict[str, str]:
    """A new self-signed cluster CA, as stored in etcd."""
    from porter_specs import certificates as certs

    key = certs.new_key()
    name = certs.name(ORGANIZATION, "porter cluster CA")
    cert = certs.certificate(name, key, name, key, CA_VALIDITY, certs.ca_extensions())
    return {
        "Cert": certs.certificate_pem(cert).decode(),
        "Key": certs.key_pem(key).decode(),
    }


def cluster_ca(store: ClusterStore) -> dict[str, str]:
    """The cluster's CA, made now (in one transaction) if no node made it before."""
    key = store.key("ca")
    stored = store.etcd.get(key)
    if stored is not None:  # the usual case: a key is made only for the first node
        return json.loads(stored.value)
    made = make_ca()
    result = store.etcd.txn([key_missing(key)], [Put(key, json.dumps(made))], [Get(key)])
    if result.succeeded:
        return made
    return json.loads(result.ranges[0][0].value)


def _subject_alt_name(address: str) -> Any:
    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(address))
    except ValueError:
        return x509.DNSName(address)


def node_certificate(ca: dict[str, str], node_id: str, address: str) -> tuple[bytes, bytes]:
    """A new key and a certificate for node `node_id` at `address`, signed by `ca` (PEMs)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID
    from porter_specs import certificates as certs

    ca_cert = x509.load_pem_x509_certificate(ca["Cert"].encode())
    ca_key = serialization.load_pem_private_key(ca["Key"].encode(), password=None)
    key = certs.new_key()
    purposes = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    extensions = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (x509.SubjectAlternativeName([_subject_alt_name(address)]), False),
        (x509.ExtendedKeyUsage(purposes), False),
    ]
    subject = certs.name(ORGANIZATION, node_id)
    cert = certs.certificate(subject, key, ca_cert.subject, ca_key, NODE_VALIDITY, extensions)
    return certs.certificate_pem(cert), certs.key_pem(key)


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    temporary.rename(path)


def node_credentials(
    store: ClusterStore, node_id: str, address: str, data_root: Path
) -> NodeCredentials:
    """This node's TLS files, its certificate made afresh (signed by the cluster CA)."""
    ca = cluster_ca(store)
    cert, key = node_certificate(ca, node_id, address)
    folder = Path(data_root) / "cluster" / "tls"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    files = NodeCredentials(folder / "ca.pem", folder / "node-cert.pem", folder / "node-key.pem")
    _write_private(files.key, key)
    _write_private(files.cert, cert)
    _write_private(files.ca, ca["Cert"].encode())
    return files
