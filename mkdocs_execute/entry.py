"""The `mkdocs-execute` console script: the harness and the terminal need a POSIX system; say so clearly elsewhere."""

from __future__ import annotations

import sys


def main() -> int:
    try:
        import fcntl  # noqa: F401
        import termios  # noqa: F401
    except ImportError as error:
        print(
            f"mkdocs-execute: running lessons needs a POSIX system (Linux, macOS; on Windows, WSL): {error}. "
            "The site itself builds anywhere MkDocs does.",
            file=sys.stderr,
        )
        return 2
    from .cli import entry

    return entry()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
