"""Storage: a path-based driver interface, its filesystem driver, the registry's layout."""
