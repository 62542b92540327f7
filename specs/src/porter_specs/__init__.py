"""The OCI specs as code: schemas, digests, media types, typed models, validation.

Import the modules you need (`porter_specs.digest`, `porter_specs.validate`...); this package
imports none of them itself, so that importing one stays cheap.
"""
