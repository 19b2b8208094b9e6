"""A diagnosis as a CDS Hooks card, and the two CDS Hooks calls (discovery and hook).

The card's ``indicator`` comes from the triage level: ``emergency`` and ``urgent`` are
``critical`` (both mean acting today, and CDS Hooks has no fourth level: when two levels
must share one, the more cautious reading wins), ``soon`` is ``warning``, ``self_care``
is ``info``. The summary names the exact level; the detail gives what to do, every
reason, the most likely causes with their ICD-10 codes and the disclaimer; the source
names the software and its knowledge base's fingerprint.

The service (``patient-view`` hook) reads the answers from a completed
QuestionnaireResponse of the interview that the EHR sends as prefetch (see
:func:`discovery`); it calls no FHIR server itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._version import __version__
from ..clinical.triage import TriageLevel
from ..errors import InteropError, check_int, check_parameter
from ..knowledge._fingerprint import fingerprint
from ..result import Diagnosis
from ._common import CANONICAL, LEVEL_DISPLAY, system
from .sdc import _model, answers_of

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["INDICATORS", "SERVICE_ID", "card", "discovery", "hook_response"]

INDICATORS = {
    TriageLevel.EMERGENCY: "critical",
    TriageLevel.URGENT: "critical",
    TriageLevel.SOON: "warning",
    TriageLevel.SELF_CARE: "info",
}
"""CDS Hooks card indicator for each triage level (see the module for why)."""

SERVICE_ID = "posterior-knee"
HOOK = "patient-view"
_SUMMARY_LIMIT = 140  # CDS Hooks: the summary SHOULD be under 140 characters


def card(dx: Diagnosis, *, top: int = 3, canonical: str = CANONICAL) -> dict:
    """A diagnosis as one CDS Hooks card (a JSON-ready dict).

    ``top`` causes are listed in the detail. See the module for the indicator.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> c = card(pk.diagnose({"shortness_of_breath": True}))
    >>> c["indicator"], c["summary"].startswith("EMERGENCY")
    ('critical', True)
    """
    check_parameter(isinstance(dx, Diagnosis), "dx", "card",
                    "a Diagnosis (from posterior_knee.diagnose)", dx)
    top = check_int(top, "top", "card", minimum=1, expected="a positive integer")
    level = dx.triage.level
    first = dx.ranking.iloc[0]
    summary = f"{level.value.replace('_', ' ').upper()}: {LEVEL_DISPLAY[level].split(': ')[-1]}"
    more = f". Most likely: {first['label']} ({first['probability']:.0%})"
    if len(summary) + len(more) < _SUMMARY_LIMIT:
        summary += more
    summary = summary[:_SUMMARY_LIMIT - 1]
    causes = []
    for row in dx.ranking.head(top).itertuples(index=False):
        code = "" if _missing(row.icd10) else f" (ICD-10 {row.icd10})"
        causes.append(f"- {row.label}: {row.probability:.0%}{code}")
    detail = "\n".join([
        f"**{dx.triage.action}**",
        "",
        "Why:",
        *(f"- {reason}" for reason in dx.triage.reasons),
        "",
        "Most likely causes (not mutually exclusive):",
        *causes,
        *(["", dx.none_fits] if dx.none_fits else []),
        "",
        f"*{dx.disclaimer}*",
    ])
    return {
        "summary": summary,
        "indicator": INDICATORS[level],
        "detail": detail,
        "source": {
            "label": f"posterior-knee {__version__} (knowledge base sha256:"
                     f"{fingerprint(dx.model.kb)[:12]})",
            "topic": {"system": system(canonical, "triage-level"), "code": level.value,
                      "display": LEVEL_DISPLAY[level]},
        },
    }


def _missing(value: object) -> bool:
    return value is None or value != value  # None or NaN


def discovery(canonical: str = CANONICAL) -> dict:
    """The CDS Hooks discovery document (``GET /cds-services``)."""
    return {"services": [{
        "hook": HOOK,
        "id": SERVICE_ID,
        "title": "posterior-knee: pain behind the knee",
        "description": (
            "Ranks the causes of pain behind the knee and triages (emergency, urgent, "
            "soon, self-care) from the patient's answers to the posterior-knee "
            "questionnaire, sent as the prefetch 'interview' (a completed "
            "QuestionnaireResponse). Decision support only: it does not replace a "
            "clinician."),
        "prefetch": {
            "interview": ("QuestionnaireResponse?subject={{context.patientId}}"
                          f"&questionnaire={canonical}/Questionnaire/posterior-knee"
                          "&status=completed&_sort=-authored&_count=1"),
        },
    }]}


def _interview(prefetch: object) -> Mapping | None:
    """The QuestionnaireResponse in the prefetch: itself, or the first of a Bundle."""
    if prefetch is None:
        return None
    if not isinstance(prefetch, Mapping):
        raise InteropError("prefetch 'interview' must be a QuestionnaireResponse or a "
                           "Bundle of them")
    if prefetch.get("resourceType") == "Bundle":
        for entry in prefetch.get("entry", []):
            resource = entry.get("resource") if isinstance(entry, Mapping) else None
            if isinstance(resource, Mapping) and (
                    resource.get("resourceType") == "QuestionnaireResponse"):
                return resource
        return None
    return prefetch


def hook_response(request: Mapping, model: Model | None = None, *,
                  canonical: str = CANONICAL) -> dict:
    """Answer a CDS Hooks call: ``{"cards": [...]}``, one card when the prefetch holds an
    interview, none when it does not.

    Raises
    ------
    InteropError
        When the request is not a ``patient-view`` call or its prefetch is malformed.
    """
    if not isinstance(request, Mapping):
        raise InteropError("the CDS Hooks request must be a JSON object")
    if request.get("hook") != HOOK:
        raise InteropError(f"this service answers the {HOOK!r} hook, not "
                           f"{request.get('hook')!r}")
    if not isinstance(request.get("hookInstance"), str):
        raise InteropError("the CDS Hooks request needs a 'hookInstance' (a string)")
    prefetch = request.get("prefetch") or {}
    if not isinstance(prefetch, Mapping):
        raise InteropError("'prefetch' must be a JSON object")
    response = _interview(prefetch.get("interview"))
    if response is None:
        return {"cards": []}
    model = _model(model)
    answers = answers_of(response, model)
    findings = {name: value for name, value in answers.items() if value is not None}
    return {"cards": [card(model.diagnose(findings), canonical=canonical)]}
