"""The `omnijourney` command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `omnijourney` console script."""
    args = sys.argv[1:] if argv is None else argv
    print(f"omnijourney: not yet implemented: {' '.join(args)}", file=sys.stderr)
    return 2
