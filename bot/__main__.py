"""`python -m bot` runs the `casebook` command.

This is the composition root, the one module of `bot` that reaches into
`adapters`: the core itself never imports a platform.
"""

from __future__ import annotations

import importlib


def main() -> None:
    importlib.import_module("adapters.cli").main()


if __name__ == "__main__":
    main()
