"""The parts of a stats sample that are pure conversions: block I/O from the runtime's
entries, network counters from a /proc/net/dev text."""

from __future__ import annotations

from porterd.containers.stats import BLKIO_KEYS, blkio_stats, network_stats

NET_DEV = """\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
  eth0:    1296      12    1    2    0     0          0         0      726       7    3    4    0     0       0          0
"""  # noqa: E501


def test_network_counters_are_read_per_interface_without_loopback() -> None:
    assert network_stats(NET_DEV) == {
        "eth0": {
            "rx_bytes": 1296, "rx_packets": 12, "rx_errors": 1, "rx_dropped": 2,
            "tx_bytes": 726, "tx_packets": 7, "tx_errors": 3, "tx_dropped": 4,
        }
    }  # fmt: skip


def test_a_namespace_with_only_loopback_has_no_networks() -> None:
    assert network_stats("\n".join(NET_DEV.splitlines()[:3])) == {}


def test_blkio_entries_keep_device_op_and_value_under_dockers_names() -> None:
    entry = {"major": 8, "minor": 0, "op": "Read", "value": 4096}
    stats = blkio_stats({"ioServiceBytesRecursive": [entry], "ioServicedRecursive": []})
    assert stats["io_service_bytes_recursive"] == [entry]
    assert stats["io_serviced_recursive"] == []


def test_blkio_has_every_key_docker_clients_read_even_without_data() -> None:
    assert blkio_stats({}) == {key: [] for key in BLKIO_KEYS}
