"""porter's entry point; the everyday CLI is not built yet."""

import sys


def main() -> None:
    sys.exit("porter: not built yet (the CLI lands with the daemon's issue)")
