"""Output of listings and inspect: docker's tables, `--format json`, `--format TEMPLATE`."""
