"""The interview as HL7 FHIR R4 Structured Data Capture (SDC) questionnaires.

:func:`questionnaire` renders every question (findings and risk factors, screening
questions first) as a Questionnaire: ``linkId`` is the id, the answers are yes, no and
don't know (the codes of FHIR's ``yesnodontknow`` value set).

:func:`next_question` is SDC's ``$next-question`` operation for an *adaptive*
questionnaire: it takes a QuestionnaireResponse whose contained Questionnaire holds the
questions asked so far (none at the start), and returns it with the next question
added to that Questionnaire, or, when the interview stops, with ``status`` completed,
a display item giving the result, and the result itself contained: the
RiskAssessment (based on the response), the triage Observation and the Device. It asks
what :class:`~posterior_knee.Interview` would ask and stops where it stops; an answer
that makes the triage level an emergency (a red flag) stops it at once. A checklist
("which of these apply?", one question over several findings) is a ``group`` item whose
``linkId`` is the checklist's id, with one yes / no / don't know child item per finding;
its answers are nested under the group in the response, as SDC nests them.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any

from .._version import __version__
from ..clinical.triage import DISCLAIMER, TriageLevel
from ..errors import InteropError, PosteriorKneeError, did_you_mean
from ..interview import Interview, Question
from ..knowledge._fingerprint import fingerprint
from ..model import Model
from ._common import CANONICAL, DONT_KNOW, NO, YES, concept, narrative
from .fhir import assessment_parts

__all__ = ["questionnaire", "next_question", "answers_of",
           "ADAPTIVE_PROFILE", "ADAPTIVE_RESPONSE_PROFILE"]

ADAPTIVE_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-adapt"
ADAPTIVE_RESPONSE_PROFILE = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaireresponse-adapt")
ADAPTIVE_EXTENSION = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-questionnaireAdaptive")

_VALUES = {("http://terminology.hl7.org/CodeSystem/v2-0136", "Y"): True,
           ("http://terminology.hl7.org/CodeSystem/v2-0136", "N"): False,
           ("http://terminology.hl7.org/CodeSystem/data-absent-reason", "asked-unknown"): None}


@cache
def _default_model() -> Model:
    return Model()


def _model(model: Model | None) -> Model:
    if model is None:
        return _default_model()
    if not isinstance(model, Model):
        raise InteropError(f"model must be a posterior_knee.Model or None, not "
                           f"{type(model).__name__}")
    return model


def _item(model: Model, name: str, canonical: str) -> dict:
    labels = model.kb.questions().set_index("id")
    return {
        "linkId": name,
        "code": concept(model.kb, canonical, "finding", name,
                        labels.loc[name, "label"])["coding"],
        "text": labels.loc[name, "question"],
        "type": "choice",
        "answerOption": [{"valueCoding": dict(c)} for c in (YES, NO, DONT_KNOW)],
    }


def _group(model: Model, question: Question, canonical: str) -> dict:
    """A checklist as a ``group`` item: one child item per finding it lists."""
    return {"linkId": question.finding, "text": question.question, "type": "group",
            "item": [_item(model, name, canonical) for name in question.items]}


def questionnaire(model: Model | None = None, *, adaptive: bool = False,
                  canonical: str = CANONICAL) -> dict:
    """The interview's questions as a FHIR R4 Questionnaire (a JSON-ready dict).

    Parameters
    ----------
    model
        The model whose questions to render; None: the shipped default priors.
    adaptive
        False (default): every question, screening questions first, as one form.
        True: the SDC adaptive form with no questions yet (``$next-question`` adds
        them one at a time; see :func:`next_question`).
    canonical
        The base of the Questionnaire's url and of the project's code systems.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> form = questionnaire()
    >>> len(form["item"]) == len(pk.load_knowledge_base().evidence_ids)
    True
    >>> first = form["item"][0]   # a screening question (ask_first) comes first
    >>> first["type"], [o["valueCoding"]["code"] for o in first["answerOption"]]
    ('choice', ['Y', 'N', 'asked-unknown'])
    """
    model = _model(model)
    kb = model.kb
    form: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": "posterior-knee-adaptive" if adaptive else "posterior-knee",
        "url": f"{canonical}/Questionnaire/posterior-knee",
        "version": f"{__version__}+kb.{fingerprint(kb)[:12]}",
        "name": "PosteriorKneeInterview",
        "title": "Pain behind the knee: questions",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "Yes / no / don't know questions about pain behind the knee; the "
                       "answers feed posterior-knee's ranking of causes and triage. "
                       + DISCLAIMER,
    }
    if adaptive:
        form["meta"] = {"profile": [ADAPTIVE_PROFILE]}
        form["extension"] = [{"url": ADAPTIVE_EXTENSION, "valueBoolean": True}]
        return form
    ask_first = [name for name in kb.evidence_ids if name in model.ask_first]
    rest = [name for name in kb.evidence_ids if name not in model.ask_first]
    form["item"] = [_item(model, name, canonical) for name in ask_first + rest]
    return form


def _response(document: Mapping) -> dict:
    """The QuestionnaireResponse in a document: itself, or the ``questionnaire-response``
    parameter of a Parameters resource (the operation's input)."""
    if not isinstance(document, Mapping):
        raise InteropError("expected a QuestionnaireResponse or a Parameters resource "
                           f"(a JSON object), not {type(document).__name__}")
    kind = document.get("resourceType")
    if kind == "Parameters":
        for parameter in document.get("parameter", []):
            if parameter.get("name") == "questionnaire-response":
                return _response(parameter.get("resource"))
        raise InteropError("the Parameters resource has no 'questionnaire-response' "
                           "parameter holding the QuestionnaireResponse")
    if kind != "QuestionnaireResponse":
        raise InteropError(f"expected a QuestionnaireResponse, got resourceType "
                           f"{kind!r}")
    return copy.deepcopy(dict(document))


def _contained_form(response: dict) -> dict[str, Any]:
    reference = response.get("questionnaire", "")
    forms = [r for r in response.get("contained", [])
             if isinstance(r, Mapping) and r.get("resourceType") == "Questionnaire"]
    for form in forms:
        if reference == f"#{form.get('id')}":
            # JSON gives dicts; another mapping becomes one (the caller adds items)
            return form if isinstance(form, dict) else dict(form)
    raise InteropError(
        "the QuestionnaireResponse must contain its Questionnaire and refer to it as "
        "'#<id>' in 'questionnaire' (SDC adaptive form); start with "
        "next_question(None) to get one")


def answers_of(response: Mapping, model: Model | None = None) -> dict[str, bool | None]:
    """The answers of a QuestionnaireResponse, in order: id -> True, False or None
    (don't know). Accepts yes / no / don't know codings and boolean answers.

    Examples
    --------
    >>> answers_of({"resourceType": "QuestionnaireResponse", "status": "completed",
    ...             "item": [{"linkId": "fever", "answer": [{"valueBoolean": False}]}]})
    {'fever': False}
    """
    model = _model(model)
    response = _response(response)
    valid = model.kb.evidence_ids
    answers: dict[str, bool | None] = {}
    for item in _flat(response.get("item", [])):
        name = item.get("linkId")
        if name not in valid:
            raise InteropError(f"item linkId {name!r} is not a finding or risk-factor id."
                               + did_you_mean(str(name), valid))
        given = item.get("answer") or []
        if len(given) != 1:
            raise InteropError(f"item {name!r} needs exactly one answer (yes, no or "
                               f"don't know); it has {len(given)}")
        answer = given[0]
        value: bool | None
        if "valueBoolean" in answer and isinstance(answer["valueBoolean"], bool):
            value = answer["valueBoolean"]
        elif "valueCoding" in answer:
            coding = answer["valueCoding"]
            key = (coding.get("system"), coding.get("code"))
            if key not in _VALUES:
                raise InteropError(
                    f"item {name!r}: the answer {coding.get('code')!r} "
                    f"({coding.get('system')}) is not yes (v2-0136 'Y'), no ('N') or "
                    "don't know (data-absent-reason 'asked-unknown')")
            value = _VALUES[key]
        else:
            raise InteropError(f"item {name!r}: answer with valueCoding (yes / no / "
                               "don't know) or valueBoolean")
        if name in answers:
            raise InteropError(f"item {name!r} is answered twice; keep one")
        answers[name] = value
    return answers


def _flat(items: list) -> list:
    """The answer items, a group's (a checklist's) children in its place."""
    out = []
    for item in items:
        if isinstance(item, Mapping) and "item" in item and "answer" not in item:
            out += _flat(item.get("item") or [])
        else:
            out.append(item)
    return out


def next_question(response: Mapping | None = None, model: Model | None = None, *,
                  canonical: str = CANONICAL) -> dict:
    """SDC ``$next-question``: the response with the next question added, or completed.

    Parameters
    ----------
    response
        An adaptive QuestionnaireResponse (its Questionnaire contained and referred to
        as ``"#<id>"``), or a Parameters resource holding it as
        ``questionnaire-response``; None starts a new one. Every question in the
        contained Questionnaire must be answered (yes, no or don't know).
    model
        The model; None: the shipped default priors.
    canonical
        The base of the project's code systems for a new response.

    Returns
    -------
    dict
        A new QuestionnaireResponse (the input is not changed): ``in-progress`` with
        one more question in its contained Questionnaire, or ``completed`` with the
        result (see the module). Once completed, it is returned unchanged.

    Raises
    ------
    InteropError
        When the response is not an adaptive QuestionnaireResponse, answers a question
        that was not asked, leaves one unanswered, or gives an answer that is not yes,
        no or don't know.

    Examples
    --------
    >>> response = next_question()                      # a new interview
    >>> first = response["contained"][0]["item"][0]     # the red-flag screen: a group
    >>> response["status"], first["type"], first["item"][0]["linkId"] in Model().ask_first
    ('in-progress', 'group', True)
    >>> no = {"system": "http://terminology.hl7.org/CodeSystem/v2-0136", "code": "N"}
    >>> response["item"] = [{"linkId": first["linkId"], "item": [
    ...     {"linkId": child["linkId"], "answer": [{"valueCoding": no}]}
    ...     for child in first["item"]]}]              # none of them
    >>> response = next_question(response)              # the next question, or the end
    >>> response["status"] in ("in-progress", "completed")
    True
    """
    model = _model(model)
    if response is None:
        form = questionnaire(model, adaptive=True, canonical=canonical)
        form["item"] = []
        response = {"resourceType": "QuestionnaireResponse",
                    "meta": {"profile": [ADAPTIVE_RESPONSE_PROFILE]},
                    "contained": [form], "questionnaire": f"#{form['id']}",
                    "status": "in-progress"}
    response = _response(response)
    if response.get("status") == "completed":
        return response
    form = _contained_form(response)
    form.setdefault("item", [])
    # each question asked: a finding's id, or a checklist's id with the ids it listed
    questions = [(item.get("linkId"),
                  [child.get("linkId") for child in item.get("item") or []]
                  if item.get("type") == "group" else None)
                 for item in form["item"] if item.get("type") != "display"]
    asked = [name for top, children in questions
             for name in (children if children is not None else [top])]
    answers = answers_of(response, model)
    for name in answers:
        if name not in asked:
            raise InteropError(f"item {name!r} answers a question the contained "
                               "Questionnaire did not ask")
    unanswered = [name for name in asked if name not in answers]
    if unanswered:
        raise InteropError(f"question {unanswered[0]!r} has no answer yet; answer it "
                           "(yes, no or don't know) before asking for the next one")
    interview = Interview(model)
    for top, children in questions:
        if children is not None and top not in interview.checklists:
            raise InteropError(f"group item {top!r} is not a checklist of the interview"
                               + did_you_mean(str(top), interview.checklists))
        try:
            # a checklist's items not in the form were not shown: they stay unasked
            # (answered "don't know" they would never be asked), as in the Interview
            if children is None:
                interview.answer(top, answers[top])
            else:
                interview.answer(top, {name: answers[name] for name in children},
                                 shown=children)
        except PosteriorKneeError as error:  # a child that is not the group's
            raise InteropError(f"item {top!r}: {error}") from None
    dx = interview.result()
    question = None
    if dx.triage.level is not TriageLevel.EMERGENCY:
        question = interview.next_question()
    if question is not None:
        form["item"].append(_group(model, question, canonical) if question.grouped
                            else _item(model, question.finding, canonical))
        response["status"] = "in-progress"
        return response
    reason = ("the triage level is emergency" if dx.triage.level is TriageLevel.EMERGENCY
              else interview.stopped or "no question is left")
    return _complete(response, form, dx, reason, canonical)


def _complete(response: dict, form: dict, dx, reason: str, canonical: str) -> dict:
    """The response completed: a display item with the result, the result contained."""
    top = dx.ranking.head(3)
    summary = (f"Stopped: {reason}. Triage: {dx.triage.level.value.replace('_', ' ')}. "
               f"{dx.triage.action} Most likely (not mutually exclusive): "
               + "; ".join(f"{r.label} {r.probability:.0%}" for r in top.itertuples())
               + f". {dx.disclaimer}")
    form["item"].append({"linkId": "result", "text": summary, "type": "display"})
    assessment, software, triage = assessment_parts(
        dx, basis=[{"reference": "#"}], triage_from=[{"reference": "#"}],
        canonical=canonical)
    assessment["id"] = "result"
    assessment["text"] = narrative([summary], list(dx.triage.reasons))
    response["contained"] = [c for c in response.get("contained", [])
                             if c.get("resourceType") == "Questionnaire"]
    response["contained"] += [assessment, software, triage]
    response["status"] = "completed"
    return response
