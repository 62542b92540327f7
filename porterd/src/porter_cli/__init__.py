"""porter: not built yet."""
