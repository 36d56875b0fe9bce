"""Entry point of the frozen app: the same main as `explorer` and `python -m explorer`."""

from explorer.cli import main

raise SystemExit(main())
