"""The OCI specs as code: schemas, digests, media types, typed models, validation."""
