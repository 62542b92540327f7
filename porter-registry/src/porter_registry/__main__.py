"""`python -m porter_registry` is `porter-registry`."""

from porter_registry.cli import main

main()
