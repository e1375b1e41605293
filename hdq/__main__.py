"""`python -m hdq` is the `hdq` command."""

import sys

from hdq.cli import main

sys.exit(main())
