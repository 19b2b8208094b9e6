"""posterior-knee: Bayesian differential diagnosis of pain behind the knee.

Decision support and teaching material; it does not replace a clinician.

>>> import posterior_knee as pk
>>> dx = pk.diagnose({"lump_behind_knee": True, "tightness_behind_knee": True})
>>> dx.top
'bakers_cyst'
"""

from . import errors, plots, sources
from .errors import KnowledgeBaseError, PosteriorKneeError
from .interview import Interview
from .knowledge_base import KnowledgeBase, default_priors_path, load_knowledge_base
from .model import Model, diagnose
from .plan import Plan
from .result import Diagnosis
from .sources import evidence_table
from .triage import DISCLAIMER, Triage, TriageLevel
from .tuning import compare

__version__ = "0.1.0"

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
    # results
    "Diagnosis",
    "Plan",
    "Triage",
    "TriageLevel",
    "DISCLAIMER",
    # plots (matplotlib, an optional extra, is imported when a plot is drawn)
    "plots",
    # errors
    "errors",
    "PosteriorKneeError",
    "KnowledgeBaseError",
    "__version__",
]
