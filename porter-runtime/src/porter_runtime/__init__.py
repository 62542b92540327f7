"""porter-runtime: an OCI runtime-spec runtime with runc's command line."""
