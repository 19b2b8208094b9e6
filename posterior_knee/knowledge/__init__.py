"""The knowledge base: the CSV files, their schema, loading, validation, saving, the
safety floor every copy must keep, and the sources behind every number.

This is the lowest layer that knows about the CSV files; it depends only on
:mod:`posterior_knee.clinical` (the triage rules the safety floor checks) and
:mod:`posterior_knee.errors`.
"""

from ._codes import code_checks
from ._fingerprint import fingerprint
from .base import KnowledgeBase, default_priors_path, load_knowledge_base
from .sources import evidence_table

__all__ = ["KnowledgeBase", "default_priors_path", "load_knowledge_base", "evidence_table",
           "fingerprint", "code_checks"]
