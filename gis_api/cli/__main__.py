"""`python -m gis_api.cli` runs the `wangge` command."""

import sys

from gis_api.cli import main

sys.exit(main())
