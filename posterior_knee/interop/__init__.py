"""Clinical data standards: HL7 FHIR R4 and CDS Hooks (see ``docs/interop.md``).

- :func:`risk_assessment` (also ``dx.to_fhir()``): a diagnosis as a FHIR
  RiskAssessment, with the findings, the model and the triage;
- :func:`questionnaire` and :func:`next_question`: the interview as an SDC adaptive
  questionnaire (``$next-question``);
- :func:`card`: a diagnosis as a CDS Hooks card; :mod:`posterior_knee.interop.service`
  serves it (``posterior-knee-cds``, the ``service`` extra).

Everything here returns plain JSON-ready dicts and needs no extra package; the ``fhir``
extra adds fhir.resources (to validate what is produced) and the offline ICD-10 code
sets that check ``codes.csv`` when a knowledge base loads.

This is the presentation layer: it may import every layer below it.
"""

from ..knowledge._codes import code_checks
from ..knowledge._fingerprint import fingerprint
from ._common import CANONICAL, FHIR_VERSION
from .cds import INDICATORS, card, discovery, hook_response
from .fhir import TRIAGE_EXTENSION, risk_assessment
from .sdc import answers_of, next_question, questionnaire

__all__ = [
    "risk_assessment",
    "questionnaire",
    "next_question",
    "answers_of",
    "card",
    "discovery",
    "hook_response",
    "fingerprint",
    "code_checks",
    "INDICATORS",
    "CANONICAL",
    "FHIR_VERSION",
    "TRIAGE_EXTENSION",
]
