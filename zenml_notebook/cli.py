"""The ``zenml-notebook`` console script: the same commands as the ``%zenml`` magic."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit code 0 on success, 2 on a user error, 130 on Ctrl-C."""
    from .commands import execute
    from .exceptions import ZenMLError

    try:
        result = execute(sys.argv[1:] if argv is None else argv)
    except ZenMLError as exc:
        print(f"zenml-notebook: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zenml-notebook: interrupted", file=sys.stderr)
        return 130
    if result is not None:
        print(repr(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
