"""Shared by the tests and the doctests: plots draw off screen and are closed after
each test; a module's doctests are skipped when its optional extra is missing (the
plots without matplotlib, the CDS Hooks service without starlette)."""

import importlib.util
import os
import sys

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

collect_ignore = [
    module for module, needs in (("posterior_knee/plots.py", ("matplotlib",)),
                                 ("posterior_knee/interop/service.py",
                                  ("starlette", "httpx")))
    if any(importlib.util.find_spec(name) is None for name in needs)
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
