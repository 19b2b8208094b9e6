"""posterior-knee: Bayesian differential diagnosis of pain behind the knee.

Decision support and teaching material; it does not replace a clinician.

>>> import posterior_knee as pk
>>> dx = pk.diagnose({"lump_behind_knee": True, "tightness_behind_knee": True})
>>> dx.top
'bakers_cyst'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import errors
from ._version import __version__
from .errors import KnowledgeBaseError, PosteriorKneeError

if TYPE_CHECKING:  # what the names below resolve to, for type checkers and IDEs
    from . import interop, plots
    from .clinical import DISCLAIMER, Plan, Triage, TriageLevel
    from .evaluation import Evaluation, evaluate, vignettes
    from .interview import Interview
    from .knowledge import (
        KnowledgeBase,
        default_priors_path,
        evidence_table,
        load_knowledge_base,
        sources,
    )
    from .model import Model, diagnose
    from .result import Diagnosis
    from .tuning import compare

# Imported when first used (PEP 562), so that the command line, which needs the model
# only, does not pay for the interview, the evaluation, FHIR or plots, and its --help
# not even for pandas.
_LAZY = {
    "DISCLAIMER": "clinical", "Plan": "clinical", "Triage": "clinical",
    "TriageLevel": "clinical",
    "KnowledgeBase": "knowledge", "default_priors_path": "knowledge",
    "evidence_table": "knowledge", "load_knowledge_base": "knowledge",
    "sources": "knowledge",
    "Model": "model", "diagnose": "model",
    "Diagnosis": "result",
    "Interview": "interview",
    "compare": "tuning",
    "Evaluation": "evaluation", "evaluate": "evaluation", "vignettes": "evaluation",
}
_SUBMODULES = frozenset({
    "cli", "clinical", "errors", "evaluation", "inference", "interop", "interview",
    "knowledge", "model", "plots", "reasoning", "result", "tuning", "widget",
})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value  # found once; later reads skip this function
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    # knowledge base
    "KnowledgeBase",
    "load_knowledge_base",
    "default_priors_path",
    "evidence_table",
    "sources",
    # inference
    "Model",
    "diagnose",
    "Interview",
    "compare",
    # evaluation on published vignettes
    "vignettes",
    "evaluate",
    "Evaluation",
    # results
    "Diagnosis",
    "Plan",
    "Triage",
    "TriageLevel",
    "DISCLAIMER",
    # plots (matplotlib, an optional extra, is imported when a plot is drawn)
    "plots",
    # FHIR R4 and CDS Hooks (plain dicts; the fhir and service extras are optional)
    "interop",
    # errors
    "errors",
    "PosteriorKneeError",
    "KnowledgeBaseError",
    "__version__",
]
