"""`python -m kmor` is the `kmor` command."""

import sys

from kmor.cli import main

sys.exit(main())
