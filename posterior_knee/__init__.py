"""posterior-knee: Bayesian differential diagnosis of pain behind the knee.

Decision support and teaching material; it does not replace a clinician.

>>> import posterior_knee as pk
>>> dx = pk.diagnose({"lump_behind_knee": True, "tightness_behind_knee": True})
>>> dx.top
'bakers_cyst'
"""

from . import errors, interop, plots
from ._version import __version__
from .clinical import DISCLAIMER, Plan, Triage, TriageLevel
from .errors import KnowledgeBaseError, PosteriorKneeError
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
