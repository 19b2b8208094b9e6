"""``python -m posterior_knee.cli``: the ``posterior-knee`` command."""

import sys

from . import main

sys.exit(main())
