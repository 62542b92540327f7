"""porterd.cluster.trust against a real etcd: one cluster CA, made by the first node in one
transaction and taken by the others, and node certificates it signs."""

from __future__ import annotations

import ipaddress
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509
from porterd.cluster.store import ClusterStore
from porterd.cluster.trust import cluster_ca, node_credentials


def test_every_node_gets_the_one_ca_the_first_node_made(store: ClusterStore) -> None:
    with ThreadPoolExecutor(3) as pool:
        cas = list(pool.map(lambda _: cluster_ca(store), range(3)))
    assert cas[0] == cas[1] == cas[2]
    assert cluster_ca(store) == cas[0]


def test_a_node_certificate_is_signed_by_the_cluster_ca_for_the_nodes_address(
    store: ClusterStore, tmp_path: Path
) -> None:
    files = node_credentials(store, "node-a", "10.1.2.3", tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("10.1.2.3")]
    assert ca == x509.load_pem_x509_certificate(cluster_ca(store)["Cert"].encode())


def test_a_nodes_tls_files_are_readable_by_root_only(store: ClusterStore, tmp_path: Path) -> None:
    files = node_credentials(store, "node-a", "10.1.2.3", tmp_path)
    assert stat.S_IMODE(files.key.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
