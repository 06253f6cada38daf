"""`python -m components.compose`: see cli.py for commands and exit codes."""

import sys

from .cli import run

sys.exit(run())
