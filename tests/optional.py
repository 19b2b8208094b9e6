"""Optional extras in tests: skipped locally when missing, a failure under CI.

CI (``CI`` set, as .ci/run does) installs every extra the suite needs, so a missing
one there is a broken install, not a reason to skip.
"""

import importlib
import os

import pytest


def require(module: str, extra: str):
    """Import ``module``, or skip the test (fail under CI) naming the extra; at a test
    module's top level it skips the whole module."""
    try:
        return importlib.import_module(module)
    except ImportError:
        message = f"{module} is missing: pip install -e \".[{extra}]\""
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)
