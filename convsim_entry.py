"""The ``convsim`` console script.

It lives outside the package so that Ctrl-C while convsim (numpy, scipy, sympy, matplotlib)
is still importing ends with one line and exit code 130, like an interrupt at any later
moment, instead of a traceback from the middle of an import.
"""

import sys


def main() -> int:
    try:
        from convsim.cli import main as run

        return run()
    except KeyboardInterrupt:
        sys.stderr.write("convsim: interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
