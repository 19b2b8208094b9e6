"""Shared by the tests and the doctests: plots draw off screen and are closed after
each test; the plotting module is skipped when its optional extra is missing."""

import importlib.util
import os
import sys

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

collect_ignore = [] if importlib.util.find_spec("matplotlib") else ["posterior_knee/plots.py"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
