"""A diagnosis as an HL7 FHIR R4 ``RiskAssessment``.

The RiskAssessment holds one ``prediction`` per cause: the coded outcome (ICD-10,
ICD-10-CM and SNOMED CT where ``codes.csv`` has them, then the project's own cause
code), ``probabilityDecimal`` (a fraction, 0 to 1), or with ``intervals`` a
``probabilityRange`` in percent (the R4 invariant ras-1 asks for '%'), and a
``rationale`` from :meth:`~posterior_knee.Diagnosis.explain`. Contained in it:

- the reported findings, one ``Observation`` each (value yes / no, coded), listed in
  ``basis``;
- the software as a ``Device`` (its ``performer``), with the knowledge base's
  fingerprint, which ``method`` repeats: the same fingerprint gives the same answers;
- the triage as an ``Observation`` (see :func:`triage_observation` for why an
  Observation), linked from the RiskAssessment by the extension :data:`TRIAGE_EXTENSION`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .._text import percent
from ..clinical.triage import TriageLevel
from ..errors import check_int, check_parameter
from ..reasoning.sensitivity import MAX_DRAWS
from ..result import Diagnosis
from ._common import (
    CANONICAL,
    LEVEL_DISPLAY,
    NO,
    UCUM,
    YES,
    concept,
    device,
    evidence_labels,
    fhir_id,
    method,
    narrative,
    subject_reference,
    system,
)

__all__ = ["risk_assessment", "finding_observations", "triage_observation",
           "TRIAGE_EXTENSION"]

TRIAGE_EXTENSION = f"{CANONICAL}/StructureDefinition/triage"
"""The extension on the RiskAssessment whose ``valueReference`` points at the triage
Observation (R4 has no element for it)."""

_SURVEY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                       "code": "survey", "display": "Survey"}]}


def _when(occurrence: str | datetime | None) -> str | None:
    check_parameter(occurrence is None or isinstance(occurrence, (str, datetime)),
                    "occurrence", "to_fhir", "None, a FHIR dateTime string or a datetime",
                    occurrence)
    return occurrence.isoformat() if isinstance(occurrence, datetime) else occurrence


def finding_observations(dx: Diagnosis, subject: dict, canonical: str = CANONICAL,
                         occurrence: str | None = None) -> list[dict]:
    """One R4 Observation per reported finding or risk factor: code = the finding
    (its own code system, and SNOMED CT where ``codes.csv`` has one), value = yes / no."""
    kb = dx.model.kb
    labels = evidence_labels(kb)
    out = []
    for name, present in dx.findings.items():
        # one code system for finding and risk-factor ids: both are answers
        observation = {
            "resourceType": "Observation",
            "id": fhir_id("finding", name),
            "status": "final",
            "category": [_SURVEY],
            "code": concept(kb, canonical, "finding", name, labels[name]),
            "subject": subject,
            "valueCodeableConcept": {"coding": [dict(YES if present else NO)],
                                     "text": "present" if present else "absent"},
        }
        if occurrence is not None:
            observation["effectiveDateTime"] = occurrence
        out.append(observation)
    return out


def triage_observation(dx: Diagnosis, subject: dict, derived_from: list[dict],
                       canonical: str = CANONICAL, occurrence: str | None = None) -> dict:
    """The triage level and its reasons as an R4 Observation.

    Why an Observation: the triage level is an assertion about the person (how soon to
    be seen), made by a device from reported findings, and Observation is the resource
    for such assertions; every FHIR server stores it. Its value is the coded level,
    ``derivedFrom`` names the findings (red flags read only what was reported present),
    each fired red-flag rule is a coded component, and every reason and the disclaimer
    are notes. The others fit less well: ``Flag`` has no place for reasons or for what
    it rests on; ``DetectedIssue`` is for conflicts with clinical actions (interactions,
    duplicate orders); ``ClinicalImpression`` records a clinician's assessment process;
    ``GuidanceResponse`` is an envelope around a decision support call that would still
    need a resource to carry the level; a ``ServiceRequest`` would turn advice into an
    order.
    """
    kb = dx.model.kb
    triage = dx.triage
    observation = {
        "resourceType": "Observation",
        "id": "triage",
        "status": "final",
        "code": {"coding": [{"system": system(canonical, "assessment"),
                             "code": "triage-level", "display": "Triage level"}],
                 "text": "Triage level: how soon to be seen"},
        "subject": subject,
        "valueCodeableConcept": {
            "coding": [{"system": system(canonical, "triage-level"),
                        "code": triage.level.value,
                        "display": LEVEL_DISPLAY[TriageLevel(triage.level)]}],
            "text": triage.action},
        "method": method(kb, canonical),
        "device": {"reference": "#model"},
        "note": [{"text": reason} for reason in triage.reasons]
        + [{"text": dx.disclaimer}],
    }
    if occurrence is not None:
        observation["effectiveDateTime"] = occurrence
    if derived_from:
        observation["derivedFrom"] = derived_from
    if triage.red_flags:
        observation["component"] = [
            {"code": {"coding": [{"system": system(canonical, "red-flag"), "code": rule}],
                      "text": f"Red flag '{rule}' fired"},
             "valueBoolean": True}
            for rule in triage.red_flags]
    return observation


_SHOWN = 0.005


def _percent(value: float) -> dict:
    return {"value": round(100.0 * float(value), 4), "unit": "%", "system": UCUM,
            "code": "%"}


def _rationale(dx: Diagnosis, cause: str, labels: Mapping[str, str], probability: float,
               prior: float, interval: tuple[float, float] | None) -> str:
    """Why the cause has its probability, in words, from :meth:`Diagnosis.explain`."""
    text = f"Probability {percent(probability)}"
    if interval is not None:
        text += f" (credible interval {percent(interval[0])} to {percent(interval[1])})"
    text += f"; before any answer {percent(prior)}."
    if not dx.findings:
        return text + " Nothing was reported, so this is the model's prior."
    why = dx.explain(cause)
    rows = why[why["kind"].isin(["finding", "risk_factor"])]

    def listed(part):
        return ", ".join(f"{labels[r.evidence].lower()} ({'yes' if r.value else 'no'}, "
                         f"{r.weight:+.2f})" for r in part.itertuples())

    # an answer that moves the log-odds by less than 0.005 does not show at two decimals
    support = rows[rows["weight"] >= _SHOWN].head(3)
    against = rows[rows["weight"] <= -_SHOWN].iloc[::-1].head(3)
    if not support.empty:
        text += f" For it: {listed(support)}."
    if not against.empty:
        text += f" Against it: {listed(against)}."
    if support.empty and against.empty:
        text += " No reported answer changes it."
    return text + " (Numbers: change in log-odds if that answer were taken away.)"


def assessment_parts(dx: Diagnosis, *, basis: list[dict], triage_from: list[dict],
                     intervals: int | None = None, seed: int | None = 0,
                     subject: str | None = None, occurrence: str | None = None,
                     canonical: str = CANONICAL) -> tuple[dict, dict, dict]:
    """The RiskAssessment (without ``contained``), the Device and the triage Observation;
    they refer to each other as contained siblings (``#model``, ``#triage``)."""
    intervals = check_int(intervals, "intervals", "to_fhir", minimum=10,
                          maximum=MAX_DRAWS, none=True,
                          expected=f"None or a number of draws (10 to {MAX_DRAWS})")
    kb = dx.model.kb
    who = subject_reference(subject)
    when = _when(occurrence)
    labels = evidence_labels(kb)
    ranges = None
    if intervals is not None:
        table = dx.intervals(n=intervals, seed=seed).set_index("cause")
        ranges = {c: (float(table.loc[c, "low"]), float(table.loc[c, "high"]))
                  for c in table.index}
    predictions = []
    for row in dx.ranking.itertuples(index=False):
        interval = None if ranges is None else ranges[row.cause]
        prediction: dict[str, Any] = {
            "outcome": concept(kb, canonical, "cause", row.cause, row.label)}
        if interval is None:
            prediction["probabilityDecimal"] = float(row.probability)
        else:
            prediction["probabilityRange"] = {"low": _percent(interval[0]),
                                              "high": _percent(interval[1])}
        prediction["rationale"] = _rationale(dx, row.cause, labels, float(row.probability),
                                             float(row.prior), interval)
        predictions.append(prediction)
    top = dx.ranking.head(3)
    assessment = {
        "resourceType": "RiskAssessment",
        "extension": [{"url": TRIAGE_EXTENSION.replace(CANONICAL, canonical),
                       "valueReference": {"reference": "#triage"}}],
        "text": narrative(
            [f"Triage: {dx.triage.level.value.replace('_', ' ')}. {dx.triage.action}",
             "Most likely causes (not mutually exclusive): " + "; ".join(
                 f"{r.label} {r.probability:.0%}" for r in top.itertuples()) + ".",
             dx.disclaimer],
            list(dx.triage.reasons)),
        "status": "final",
        "method": method(kb, canonical),
        "subject": who,
        "performer": {"reference": "#model", "display": "posterior-knee"},
    }
    if when is not None:
        assessment["occurrenceDateTime"] = when
    if basis:
        assessment["basis"] = basis
    assessment["prediction"] = predictions
    assessment["note"] = [
        {"text": "The causes are not mutually exclusive: their probabilities need not "
                 "add up to 1. Findings not reported were treated as unknown."},
        *([{"text": dx.none_fits}] if dx.none_fits else []),
        {"text": dx.disclaimer}]
    triage = triage_observation(dx, who, triage_from, canonical, when)
    return assessment, device(kb, dx.disclaimer), triage


def risk_assessment(dx: Diagnosis, *, intervals: int | None = None, seed: int | None = 0,
                    subject: str | None = None, occurrence: str | datetime | None = None,
                    canonical: str = CANONICAL) -> dict:
    """A diagnosis as a FHIR R4 RiskAssessment (a JSON-ready dict); see the module.

    Parameters
    ----------
    dx
        The diagnosis.
    intervals
        None (default): ``probabilityDecimal``. A number of Monte Carlo draws (10 or
        more): ``probabilityRange``, the 95 % credible interval from
        :meth:`~posterior_knee.Diagnosis.intervals` with ``seed``, in percent.
    subject
        A reference to the person, e.g. ``"Patient/123"``; None: a display only.
    occurrence
        When the assessment was made (a FHIR dateTime or a datetime); None: left out,
        so the same diagnosis always gives the same document.
    canonical
        The base of the project's own code systems (see :data:`CANONICAL`).

    Examples
    --------
    >>> import posterior_knee as pk
    >>> ra = pk.diagnose({"lump_behind_knee": True, "fever": False}).to_fhir()
    >>> ra["resourceType"], ra["prediction"][0]["outcome"]["coding"][0]["code"]
    ('RiskAssessment', 'M71.2')
    >>> [r["resourceType"] for r in ra["contained"]][:2]
    ['Device', 'Observation']
    """
    check_parameter(isinstance(dx, Diagnosis), "dx", "risk_assessment",
                    "a Diagnosis (from posterior_knee.diagnose)", dx)
    who = subject_reference(subject)
    when = _when(occurrence)
    observations = finding_observations(dx, who, canonical, when)
    present = [{"reference": f"#{o['id']}"} for o, value
               in zip(observations, dx.findings.values()) if value]
    assessment, software, triage = assessment_parts(
        dx, basis=[{"reference": f"#{o['id']}"} for o in observations],
        triage_from=present, intervals=intervals, seed=seed, subject=subject,
        occurrence=when, canonical=canonical)
    contained = [software, *observations, triage]
    return {"resourceType": "RiskAssessment", "contained": contained,
            **{k: v for k, v in assessment.items() if k != "resourceType"}}
