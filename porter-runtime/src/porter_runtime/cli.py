"""porter-runtime's entry point."""

import sys


def main() -> None:
    sys.exit("porter-runtime: not built yet")
