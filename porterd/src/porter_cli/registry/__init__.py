"""login and logout: credentials for registries, kept in porter's config.json."""
