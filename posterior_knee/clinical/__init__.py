"""Clinical rules: triage levels and red-flag conditions, the Wells score, the plan.

These are pure rules over reported findings and probabilities. They import nothing
from the knowledge base or the engines, so every other layer can rely on them.
"""

from .plan import Plan
from .triage import DISCLAIMER, Triage, TriageLevel, TriageRules
from .wells import WellsScore

__all__ = ["DISCLAIMER", "Plan", "Triage", "TriageLevel", "TriageRules", "WellsScore"]
