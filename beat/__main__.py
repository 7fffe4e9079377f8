"""Allow `python -m beat`."""

from beat.cli import main

raise SystemExit(main())
