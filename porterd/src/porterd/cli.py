"""porterd's entry point; the daemon is not built yet."""

import sys


def main() -> None:
    sys.exit("porterd: not built yet (the daemon lands with its own issue)")
