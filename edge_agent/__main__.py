"""`python -m edge_agent` runs the same CLI as the `edge-agent` console script."""

import sys

from edge_agent.cli import main

sys.exit(main())
