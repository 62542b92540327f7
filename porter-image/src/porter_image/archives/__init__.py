"""Image archives as copy sources and destinations: `oci-archive:` and `docker-archive:`.

Both are read without trusting their member names (only the files the format names are read,
as regular files, never extracted by path) and written to a temp file renamed into place at
the end, so a failed copy leaves no half-written archive.
"""
