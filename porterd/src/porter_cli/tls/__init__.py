"""`porter tls ...`: a CA and certificates for a daemon on TCP with mutual TLS."""

from porter_cli.command import lazy_group

command = lazy_group(
    "tls", "Make TLS certificates for porterd and its clients", {"init": "tls.init"}
)
