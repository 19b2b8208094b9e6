"""What every interop format shares: code systems, codings, ids, the model's identity."""

from __future__ import annotations

import hashlib
import html
import re
import weakref
from collections.abc import Mapping

from .._version import __version__
from ..clinical.triage import TriageLevel
from ..knowledge._codes import SYSTEM_URIS
from ..knowledge._fingerprint import fingerprint
from ..knowledge.base import KnowledgeBase

CANONICAL = "http://example.org/posterior-knee"
"""The base of the project's own code systems and of the Questionnaire's url. A
placeholder (``example.org`` is reserved for examples): a deployment that registers its
own canonical base passes it as ``canonical=``."""

FHIR_VERSION = "4.0.1"
"""FHIR R4: what the documents are written for. The tests validate them with the R4B
models of fhir.resources, the closest it ships to R4 (R4B changed other resources)."""

YES = {"system": "http://terminology.hl7.org/CodeSystem/v2-0136", "code": "Y",
       "display": "Yes"}
NO = {"system": "http://terminology.hl7.org/CodeSystem/v2-0136", "code": "N", "display": "No"}
DONT_KNOW = {"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
             "code": "asked-unknown", "display": "Don't know"}
"""The three answers, as in FHIR's ``yesnodontknow`` value set."""

UCUM = "http://unitsofmeasure.org"

LEVEL_DISPLAY = {
    TriageLevel.EMERGENCY: "Emergency: call emergency services or go to an emergency "
                           "department now",
    TriageLevel.URGENT: "Urgent: be seen today",
    TriageLevel.SOON: "Soon: book an appointment within days",
    TriageLevel.SELF_CARE: "Self-care, with a doctor if it does not settle",
}

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def system(canonical: str, name: str) -> str:
    """The url of one of the project's own code systems (``cause``, ``finding`` ...)."""
    return f"{canonical}/CodeSystem/{name}"


def fhir_id(prefix: str, name: str) -> str:
    """A FHIR resource id (letters, digits, '-' and '.', at most 64) for an id."""
    candidate = f"{prefix}-{name.replace('_', '-')}"
    if _ID.fullmatch(candidate):
        return candidate
    return f"{prefix}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def subject_reference(subject: str | None) -> dict:
    """A Reference to the person assessed: ``"Patient/123"`` or, without one, a display."""
    if subject is None:
        return {"display": "The person who reported the findings"}
    return {"reference": subject}


_codings: weakref.WeakKeyDictionary[KnowledgeBase, dict] = weakref.WeakKeyDictionary()


def standard_codings(kb: KnowledgeBase, name: str) -> list[dict]:
    """The ICD-10, ICD-10-CM and SNOMED CT codings of an id, from ``codes.csv``."""
    table = _codings.get(kb)
    if table is None:
        table = {}
        for row in kb.codes.itertuples(index=False):
            table.setdefault(row.id, []).append(
                (list(SYSTEM_URIS).index(row.system),
                 {"system": SYSTEM_URIS[row.system], "code": row.code,
                  "display": row.display}))
        table = _codings[kb] = {key: [c for _, c in sorted(value, key=lambda v: v[0])]
                                for key, value in table.items()}
    return [dict(coding) for coding in table.get(name, [])]


def concept(kb: KnowledgeBase, canonical: str, kind: str, name: str, label: str) -> dict:
    """A CodeableConcept: the standard codes first, then the project's own code."""
    codings = standard_codings(kb, name)
    codings.append({"system": system(canonical, kind), "code": name, "display": label})
    return {"coding": codings, "text": label}


def evidence_labels(kb: KnowledgeBase) -> Mapping[str, str]:
    """The label of each finding and risk-factor id."""
    questions = kb.questions()
    return dict(zip(questions["id"], questions["label"]))


def model_identity(kb: KnowledgeBase) -> str:
    """``posterior-knee <version>, knowledge base sha256:<fingerprint>``."""
    return f"posterior-knee {__version__}, knowledge base sha256:{fingerprint(kb)}"


def method(kb: KnowledgeBase, canonical: str) -> dict:
    """The model as a CodeableConcept, its fingerprint in the text."""
    return {"coding": [{"system": system(canonical, "method"), "code": "posterior-knee",
                        "display": "Bayesian network (noisy-OR), exact inference"}],
            "text": f"{model_identity(kb)}: a Bayesian network of causes and findings "
                    "with noisy-OR links, answered by exact inference"}


def device(kb: KnowledgeBase, disclaimer: str) -> dict:
    """The software as a Device (R4): its version and the knowledge base's fingerprint."""
    return {
        "resourceType": "Device",
        "id": "model",
        "deviceName": [{"name": "posterior-knee", "type": "user-friendly-name"}],
        "type": {"text": "Clinical decision support software"},
        "version": [
            {"type": {"text": "software"}, "value": __version__},
            {"type": {"text": "knowledge base SHA-256"}, "value": fingerprint(kb)},
        ],
        "note": [{"text": disclaimer}],
    }


def narrative(paragraphs: list[str], items: list[str] | None = None) -> dict:
    """A generated FHIR narrative: escaped paragraphs and an optional list."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if items:
        body += "<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items) + "</ul>"
    return {"status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}
