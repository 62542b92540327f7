"""porter-image's entry point."""

import sys


def main() -> None:
    sys.exit("porter-image: not built yet")
