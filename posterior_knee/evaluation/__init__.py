"""The vignette suite and its scorer: how well a knowledge base ranks and triages
published cases of pain behind the knee.

>>> import posterior_knee as pk
>>> suite = pk.vignettes()
>>> {"dev", "test"} == set(suite["split"])
True
"""

from ._metrics import wilson
from ._score import METRICS, SCHEMA, SCOPES, VOCABULARIES, Evaluation, evaluate
from ._vignettes import COLUMNS, LEVELS, split_of, vignettes

__all__ = ["vignettes", "evaluate", "Evaluation", "split_of", "wilson", "METRICS",
           "SCHEMA", "SCOPES", "COLUMNS", "LEVELS", "VOCABULARIES"]
