import os

import pytest
from hypothesis import HealthCheck, settings

import posterior_knee as pk

# quick locally, fuller in CI (CI=true is set there)
settings.register_profile("quick", max_examples=20, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=80, deadline=None,
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
