"""porter-registry's entry point."""

import sys


def main() -> None:
    sys.exit("porter-registry: not built yet")
