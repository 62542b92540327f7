"""porterd: not built yet."""
