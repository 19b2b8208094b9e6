import os

import pytest
from hypothesis import HealthCheck, settings

import posterior_knee as pk

# quick locally, fuller in CI (CI=true is set there); CI at 40 keeps the suite near ten
# minutes on 2 cores (at 80 it took 16 minutes in December 2026)
settings.register_profile("quick", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
# a longer search by hand, before a release: HYPOTHESIS_PROFILE=deep python -m pytest ...
settings.register_profile("deep", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE",
                                     "ci" if os.environ.get("CI") else "quick"))


@pytest.fixture(scope="session")
def kb():
    return pk.load_knowledge_base()


@pytest.fixture(scope="session")
def model(kb):
    return pk.Model(kb)


@pytest.fixture(scope="session")
def core(kb):
    """The shipped network cut to 20 causes, where the enumeration engine is the exact
    reference (tests/networks.py says which causes go and why)."""
    from .networks import core_kb

    return pk.Model(core_kb(kb))


@pytest.fixture(scope="session")
def core_reference(core):
    """``core`` answered by pgmpy (one joint query over its 20 causes)."""
    return pk.Model(core.kb, engine="pgmpy")


@pytest.fixture(scope="session")
def reference(kb):
    """The same knowledge base answered by pgmpy's variable elimination."""
    return pk.Model(kb, engine="pgmpy")


@pytest.fixture
def priors_copy(tmp_path):
    """A writable copy of the shipped priors folder."""
    import shutil

    target = tmp_path / "priors"
    shutil.copytree(pk.default_priors_path(), target,
                    ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
    return target


class ExecutedNotebooks:
    """Each notebook of notebooks/ executed at most once per test session.

    tests/test_notebooks.py checks the runs; the documentation build in
    tests/test_docs.py publishes them (docs/hooks.py takes a copy from ``folder`` only
    if its code is the code in git, and executes the notebook itself otherwise).
    """

    CELL_TIMEOUT = 120  # seconds per cell: a hung kernel fails instead of blocking CI

    def __init__(self, folder):
        self.folder = folder
        self._runs = {}

    def __call__(self, path):
        """The notebook at ``path``, executed; raises the cell's error if one fails."""
        if path.name not in self._runs:
            self._runs[path.name] = self._execute(path)
        notebook, error = self._runs[path.name]
        if error is not None:
            raise error
        return notebook

    def _execute(self, path):
        from .optional import require

        nbformat = require("nbformat", "notebooks")
        nbclient = require("nbclient", "notebooks")
        require("ipykernel", "notebooks")
        notebook = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            notebook, timeout=self.CELL_TIMEOUT, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}})
        # the kernel draws plots inline, as in Jupyter (the tests' own MPLBACKEND is Agg)
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        try:
            client.execute(env=env)  # CellExecutionError names the cell and its traceback
        except Exception as error:
            return None, error
        nbformat.write(notebook, self.folder / path.name)
        return notebook, None


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory):
    return ExecutedNotebooks(tmp_path_factory.mktemp("executed-notebooks"))


# -- pytest-xdist (the README runs the suite with -n 2) -----------------------------------

NOTEBOOK_MODULES = ("tests/test_docs.py::", "tests/test_notebooks.py::")


def pytest_xdist_make_scheduler(config, log):
    """With workers (``-n``), the site build and the notebooks' tests run in one, which
    executes each notebook once for both (``executed_notebooks``: 50 s); every other
    test is handed out on its own, in order, as ``--dist load`` does.

    (``--dist loadgroup`` with ``xdist_group`` marks would say the same, but pytest 9
    ignores the group that xdist 3.8 appends to the node ids.) Another ``--dist`` is
    left as chosen.
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class NotebooksTogether(LoadScopeScheduling):
        # the largest unit is handed out first (xdist orders units by size), so the
        # notebooks never start last
        def _split_scope(self, nodeid):
            return "notebooks" if nodeid.startswith(NOTEBOOK_MODULES) else nodeid

    return NotebooksTogether(config, log)
