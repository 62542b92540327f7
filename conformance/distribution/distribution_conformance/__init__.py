"""Helpers of the distribution-spec conformance suite: settings, an HTTP client, test content,
response checks and the registries the suite can start by itself.

The suite talks to a registry only through its HTTP API, so that the same checks run against
porter-registry, CNCF distribution, or any registry given by its URL.
"""
