"""``python -m posterior_knee``: the ``posterior-knee`` command."""

import sys

from .cli import main

sys.exit(main())
