"""The ``zenml-notebook`` console script: the same commands as the ``%zenml`` magic."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit code 0 on success, 2 on a user error, 130 on Ctrl-C."""
    from .commands import execute
    from .exceptions import ZenMLError
    from .registry.team import TeamRegistry

    TeamRegistry.one_shot = True  # one command, then exit: a shared registry is read without an engine

    try:
        result = execute(sys.argv[1:] if argv is None else argv)
        if result is not None:
            print(repr(result), flush=True)
    except ZenMLError as exc:
        print(f"zenml-notebook: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zenml-notebook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `zenml-notebook runs list | head`: the reader has all it wanted
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
