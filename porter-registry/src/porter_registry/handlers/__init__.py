"""One module per distribution-spec resource; each parses HTTP and calls `Registry`."""
