"""`python -m promptwise` is the same as the `promptwise` command."""

from .cli.main import main

raise SystemExit(main())
