"""porter-registry: an OCI distribution-spec v1.1 registry."""
