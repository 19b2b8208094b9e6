"""FHIR R4 and CDS Hooks: every document is checked against fhir.resources' models
(R4B, which for these resources is R4) and against the rules the models do not check
(references, invariants, narrative)."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from hypothesis import given, settings

import posterior_knee as pk
from posterior_knee import interop
from posterior_knee._text import percent
from posterior_knee.clinical.triage import DISCLAIMER, TriageLevel
from posterior_knee.errors import InteropError, PosteriorKneeError
from posterior_knee.interview import Interview
from posterior_knee.reasoning.checklists import SCREEN

from .optional import require
from .strategies import evidence

YES = {"system": "http://terminology.hl7.org/CodeSystem/v2-0136", "code": "Y"}
NO = {"system": "http://terminology.hl7.org/CodeSystem/v2-0136", "code": "N"}
DONT_KNOW = {"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
             "code": "asked-unknown"}
CASE = {"lump_behind_knee": True, "tightness_behind_knee": True, "fever": False,
        "age_over_50": True}


def validate(resource: dict):
    """Parse with fhir.resources (R4B), then check what its models leave out."""
    require("fhir.resources", "fhir")
    from fhir.resources.R4B import get_fhir_model_class

    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    # the model accepted every element; its JSON must say the same as ours
    assert json.loads(model.model_dump_json()) == json.loads(json.dumps(resource))
    _check_contained(resource)
    _check_narratives(resource)
    return model


def _references(node, found=None):
    found = [] if found is None else found
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                found.append(value)
            elif key != "contained":
                _references(value, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, found)
    return found


def _check_contained(resource: dict):
    """Local references resolve; every contained resource is referred to or refers to
    its container (dom-3), and holds no contained resources of its own (dom-2)."""
    contained = resource.get("contained", [])
    ids = [c["id"] for c in contained]
    assert len(ids) == len(set(ids))
    outer = _references(resource)
    if isinstance(resource.get("questionnaire"), str):
        outer.append(resource["questionnaire"])
    inner = {c["id"]: _references(c) for c in contained}
    every = outer + [r for refs in inner.values() for r in refs]
    for reference in every:
        if reference.startswith("#") and reference != "#":
            assert reference[1:] in ids, reference
    for c in contained:
        assert "contained" not in c
        assert f"#{c['id']}" in every or "#" in inner[c["id"]], c["id"]


def _check_narratives(node):
    if isinstance(node, dict):
        if "div" in node and isinstance(node["div"], str):
            root = ET.fromstring(node["div"])  # well-formed XHTML
            assert root.tag == "{http://www.w3.org/1999/xhtml}div"
        for value in node.values():
            _check_narratives(value)
    elif isinstance(node, list):
        for value in node:
            _check_narratives(value)


def contained(resource: dict, kind: str) -> list[dict]:
    return [c for c in resource.get("contained", []) if c["resourceType"] == kind]


# -- codes in the results --------------------------------------------------------


def test_ranking_and_to_dict_carry_the_codes(kb):
    dx = pk.diagnose(CASE)
    codes = kb.codes.pivot(index="id", columns="system", values="code")
    for row in dx.ranking.itertuples(index=False):
        for system in ("icd10", "icd10cm", "snomed"):
            want = codes[system].get(row.cause) if system in codes else None
            got = getattr(row, system)
            assert (pd.isna(got) and pd.isna(want)) or got == want, (row.cause, system)
    data = dx.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON
    assert data["version"] == pk.result.SCHEMA_VERSION
    assert [r["cause"] for r in data["ranking"]] == list(dx.ranking["cause"])
    assert [r["icd10"] for r in data["ranking"]] == [
        None if pd.isna(c) else c for c in dx.ranking["icd10"]]
    assert data["triage"] == {"level": dx.triage.level.value, "action": dx.triage.action,
                              "reasons": list(dx.triage.reasons),
                              "red_flags": list(dx.red_flags)}
    assert data["findings"] == dict(dx.findings)
    assert data["disclaimer"] == DISCLAIMER
    assert math.isclose(data["groups"][0]["probability"], dx.groups["probability"].iloc[0])


# causes with no WHO ICD-10 code, each for the reason docs/interop.md gives
UNCODED = {"fabella_syndrome", "chronic_exertional_compartment_syndrome"}


def test_every_shipped_cause_has_an_icd10_code(kb):
    icd10 = kb.codes[kb.codes["system"] == "icd10"]
    assert set(icd10["id"]) == set(kb.cause_ids) - UNCODED
    # the issue's own example
    dvt = kb.codes[kb.codes["id"] == "dvt"].set_index("system")["code"]
    assert (dvt["icd10"], dvt["icd10cm"]) == ("I80.2", "I82.4")


# -- RiskAssessment -------------------------------------------------------------


def test_risk_assessment_is_valid_r4_and_complete(kb):
    dx = pk.diagnose(CASE)
    ra = dx.to_fhir(subject="Patient/example", occurrence="2026-05-01T10:00:00Z")
    validate(ra)
    assert ra["subject"] == {"reference": "Patient/example"}
    # one prediction per cause, in ranking order, with its probability
    assert len(ra["prediction"]) == len(kb.causes)
    for prediction, row in zip(ra["prediction"], dx.ranking.itertuples(index=False)):
        codings = prediction["outcome"]["coding"]
        assert codings[-1]["code"] == row.cause
        assert prediction["probabilityDecimal"] == pytest.approx(row.probability)
        assert 0.0 <= prediction["probabilityDecimal"] <= 1.0
        assert prediction["rationale"].startswith(f"Probability {percent(row.probability)}")
        standard = {c["system"]: c["code"] for c in codings[:-1]}
        # an uncoded cause (docs/interop.md, Limits) carries the project's code only
        icd10 = None if pd.isna(row.icd10) else row.icd10
        assert standard.get("http://hl7.org/fhir/sid/icd-10") == icd10
    # the findings: one Observation each, in basis, value yes / no
    observations = {o["code"]["coding"][-1]["code"]: o
                    for o in contained(ra, "Observation") if o["id"] != "triage"}
    assert set(observations) == set(CASE)
    assert {b["reference"] for b in ra["basis"]} == {
        f"#{o['id']}" for o in observations.values()}
    for name, value in CASE.items():
        assert observations[name]["valueCodeableConcept"]["coding"][0]["code"] == (
            "Y" if value else "N")
    # the method names the knowledge base's fingerprint, as the Device does
    fingerprint = interop.fingerprint(kb)
    assert fingerprint in ra["method"]["text"]
    (device,) = contained(ra, "Device")
    assert fingerprint in [v["value"] for v in device["version"]]
    assert ra["performer"]["reference"] == "#model"
    # the disclaimer travels with the document
    assert any(n["text"] == DISCLAIMER for n in ra["note"])
    assert DISCLAIMER in ra["text"]["div"]


def test_triage_observation_carries_level_reasons_and_red_flags():
    dx = pk.diagnose({"fever": True, "hot_painful_knee": True, "lump_behind_knee": True})
    assert dx.red_flags
    ra = dx.to_fhir()
    validate(ra)
    (link,) = [e for e in ra["extension"] if e["url"] == interop.TRIAGE_EXTENSION]
    triage = next(c for c in ra["contained"]
                  if f"#{c['id']}" == link["valueReference"]["reference"])
    assert triage["resourceType"] == "Observation"
    assert triage["valueCodeableConcept"]["coding"][0]["code"] == dx.triage.level.value
    notes = [n["text"] for n in triage["note"]]
    assert notes[:-1] == list(dx.triage.reasons) and notes[-1] == DISCLAIMER
    assert [c["code"]["coding"][0]["code"] for c in triage["component"]] == list(
        dx.red_flags)
    # red flags read what was reported present: that is what the level derives from
    present = {f"#{o['id']}" for o in contained(ra, "Observation")
               if o.get("valueCodeableConcept", {}).get("coding", [{}])[0].get("code") == "Y"}
    assert {d["reference"] for d in triage["derivedFrom"]} == present


def test_intervals_become_probability_ranges_in_percent():
    dx = pk.diagnose({"hot_painful_knee": True, "fever": True})
    ra = dx.to_fhir(intervals=60, seed=3)
    validate(ra)
    table = dx.intervals(n=60, seed=3).set_index("cause")
    for prediction in ra["prediction"]:
        cause = prediction["outcome"]["coding"][-1]["code"]
        assert "probabilityDecimal" not in prediction  # probability[x]: one or the other
        low, high = prediction["probabilityRange"]["low"], prediction["probabilityRange"]["high"]
        for end in (low, high):  # invariant ras-1: percentages in UCUM
            assert (end["system"], end["code"]) == ("http://unitsofmeasure.org", "%")
        assert low["value"] == pytest.approx(100 * table.loc[cause, "low"], abs=1e-3)
        assert high["value"] == pytest.approx(100 * table.loc[cause, "high"], abs=1e-3)
        assert low["value"] <= high["value"]
    assert ra == dx.to_fhir(intervals=60, seed=3)  # the same seed, the same document


def test_rationale_follows_explain():
    dx = pk.diagnose({"calf_pain": True, "calf_swelling": True, "fever": False})
    ra = dx.to_fhir()
    labels = dict(zip(dx.model.kb.questions()["id"], dx.model.kb.questions()["label"]))
    for prediction in ra["prediction"][:5]:
        cause = prediction["outcome"]["coding"][-1]["code"]
        why = dx.explain(cause)
        rows = why[why["kind"].isin(["finding", "risk_factor"])]
        best = rows.iloc[0]
        text = prediction["rationale"]
        if best["weight"] >= 0.005:
            assert f"For it: {labels[best['evidence']].lower()}" in text
            assert f"{best['weight']:+.2f}" in text
        worst = rows.iloc[-1]
        if worst["weight"] <= -0.005:
            assert f"{labels[worst['evidence']].lower()} " in text.split("Against it:")[1]


def test_no_findings_gives_the_prior():
    dx = pk.diagnose({})
    ra = dx.to_fhir()
    validate(ra)
    assert "basis" not in ra
    assert all("prior" in p["rationale"] for p in ra["prediction"])


@settings(max_examples=15, deadline=None)
@given(case=evidence(pk.load_knowledge_base(), max_size=8))
def test_any_case_gives_a_valid_risk_assessment(case):
    dx = pk.diagnose(case)
    ra = dx.to_fhir()
    validate(ra)
    assert [p["probabilityDecimal"] for p in ra["prediction"]] == pytest.approx(
        list(dx.ranking["probability"]))
    levels = [c["valueCodeableConcept"]["coding"][0]["code"]
              for c in contained(ra, "Observation") if c["id"] == "triage"]
    assert levels == [dx.triage.level.value]


def test_bad_to_fhir_arguments_name_the_parameter():
    dx = pk.diagnose({"fever": False})
    with pytest.raises(PosteriorKneeError, match="'intervals'"):
        dx.to_fhir(intervals=True)
    with pytest.raises(PosteriorKneeError, match="'occurrence'"):
        dx.to_fhir(occurrence=20260501)


# -- Questionnaire and $next-question ----------------------------------------------


def test_questionnaire_is_valid_and_asks_every_id(model):
    form = interop.questionnaire(model)
    validate(form)
    ids = [item["linkId"] for item in form["item"]]
    assert sorted(ids) == sorted(model.kb.evidence_ids)
    first = len(model.ask_first)
    assert set(ids[:first]) == model.ask_first  # screening questions first
    for item in form["item"]:
        codes = [o["valueCoding"]["code"] for o in item["answerOption"]]
        assert codes == ["Y", "N", "asked-unknown"]
        assert item["text"] == model.kb.questions().set_index("id").loc[item["linkId"],
                                                                         "question"]
    adaptive = interop.questionnaire(model, adaptive=True)
    validate(adaptive)
    assert "item" not in adaptive
    assert adaptive["extension"][0]["valueBoolean"] is True


def answer(response: dict, answers: dict) -> dict:
    """A client: answer the newest question of the contained Questionnaire (a group,
    a checklist: each of its items, nested under it)."""
    form = next(c for c in response["contained"] if c["resourceType"] == "Questionnaire")
    question = form["item"][-1]

    def reply(item):
        value = answers.get(item["linkId"])
        coding = DONT_KNOW if value is None else YES if value else NO
        return {"linkId": item["linkId"], "text": item["text"],
                "answer": [{"valueCoding": coding}]}

    response = json.loads(json.dumps(response))
    response.setdefault("item", []).append(
        {"linkId": question["linkId"], "text": question["text"],
         "item": [reply(child) for child in question["item"]]}
        if question["type"] == "group" else reply(question))
    return response


def run_adaptive(answers: dict, model, limit: int = 80) -> dict:
    response = interop.next_question(None, model)
    for _ in range(limit):
        validate(response)
        if response["status"] == "completed":
            return response
        response = interop.next_question(answer(response, answers), model)
    raise AssertionError("the interview did not stop")


def test_round_trip_questionnaire_answers_risk_assessment(model):
    """The adaptive interview asks what Interview asks, and its result is the diagnosis
    of the answers given."""
    answers = {"fever": False, "shortness_of_breath": False, "lump_behind_knee": True,
               "tightness_behind_knee": True, "calf_swelling": False, "chest_pain": False}
    done = run_adaptive(answers, model)
    asked = [item["linkId"] for item in done["item"]]
    reference = Interview(model)
    reference.run(answers)
    assert asked == list(reference.history)
    given = {name: answers[name] for name in reference.items_asked
             if answers.get(name) is not None}
    dx = model.diagnose(given)
    (ra,) = contained(done, "RiskAssessment")
    assert ra["basis"] == [{"reference": "#"}]  # based on the response itself
    assert [p["outcome"]["coding"][-1]["code"] for p in ra["prediction"]] == list(
        dx.ranking["cause"])
    assert [p["probabilityDecimal"] for p in ra["prediction"]] == pytest.approx(
        list(dx.ranking["probability"]))
    (triage,) = [o for o in contained(done, "Observation") if o["id"] == "triage"]
    assert triage["valueCodeableConcept"]["coding"][0]["code"] == dx.triage.level.value
    form = contained(done, "Questionnaire")[0]
    assert form["item"][-1]["type"] == "display" and DISCLAIMER in form["item"][-1]["text"]
    assert interop.answers_of(done, model) == {name: answers.get(name)
                                               for name in reference.items_asked}
    groups = [item for item in form["item"] if item["type"] == "group"]
    assert groups and all(len(group["item"]) >= 2 for group in groups)  # checklists


def test_a_red_flag_stops_the_adaptive_interview(model):
    """Answering yes to an emergency red flag completes the response at once."""
    everything = dict.fromkeys(model.kb.evidence_ids, False)
    everything["shortness_of_breath"] = True
    done = run_adaptive(everything, model)
    assert [item["linkId"] for item in done["item"]] == [SCREEN]  # the first question
    assert interop.answers_of(done, model)["shortness_of_breath"] is True
    (triage,) = [o for o in contained(done, "Observation") if o["id"] == "triage"]
    assert triage["valueCodeableConcept"]["coding"][0]["code"] == "emergency"
    assert any(c["code"]["coding"][0]["code"] == "clot_in_lungs"
               for c in triage["component"])


def test_next_question_takes_the_operation_parameters_and_leaves_input_alone(model):
    start = interop.next_question(None, model)
    replied = answer(start, {})
    before = json.dumps(replied, sort_keys=True)
    wrapped = {"resourceType": "Parameters",
               "parameter": [{"name": "questionnaire-response", "resource": replied}]}
    assert interop.next_question(wrapped, model) == interop.next_question(replied, model)
    assert json.dumps(replied, sort_keys=True) == before
    done = run_adaptive({"shortness_of_breath": True}, model)
    assert interop.next_question(done, model) == done  # completed stays completed


def fever(response):
    """The answer to 'fever', an item of the first question (the red-flag screen)."""
    return next(c for c in response["item"][0]["item"] if c["linkId"] == "fever")


@pytest.mark.parametrize(("change", "words"), [
    (lambda r: r.update(resourceType="Patient"), "expected a QuestionnaireResponse"),
    (lambda r: r.update(questionnaire="#elsewhere"), "contain its Questionnaire"),
    (lambda r: fever(r).update(linkId="fevr"), "Did you mean 'fever'"),
    (lambda r: fever(r).update(answer=[]), "exactly one answer"),
    (lambda r: fever(r).update(answer=[{"valueCoding": {"system": "x", "code": "Y"}}]),
     "is not yes"),
    (lambda r: fever(r).update(answer=[{"valueString": "yes"}]), "valueCoding"),
    (lambda r: r["item"].append(dict(r["item"][0])), "answered twice"),
    (lambda r: r["item"].clear(), "has no answer yet"),
    (lambda r: r["item"][0]["item"].remove(fever(r)), "has no answer yet"),
    (lambda r: r["contained"][0]["item"][0].update(linkId="red_flag_scren"),
     "Did you mean 'red_flag_screen'"),
])
def test_malformed_responses_are_named(model, change, words):
    response = answer(interop.next_question(None, model), {})
    change(response)
    with pytest.raises(InteropError, match=words):
        interop.next_question(response, model)


def test_answers_to_questions_not_asked_are_refused(model):
    response = answer(interop.next_question(None, model), {})
    other = next(name for name in model.kb.evidence_ids
                 if name != response["item"][0]["linkId"])
    response["item"].append({"linkId": other, "answer": [{"valueCoding": NO}]})
    with pytest.raises(InteropError, match="did not ask"):
        interop.next_question(response, model)


# -- CDS Hooks ---------------------------------------------------------------------


def check_card(card: dict):
    """The CDS Hooks 2.0 card rules: summary (under 140 characters), indicator,
    source.label required; detail is markdown."""
    assert set(card) <= {"uuid", "summary", "detail", "indicator", "source",
                         "suggestions", "selectionBehavior", "overrideReasons", "links"}
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert isinstance(card["source"]["label"], str) and card["source"]["label"]
    assert set(card["source"]) <= {"label", "url", "icon", "topic"}
    assert set(card["source"]["topic"]) <= {"system", "code", "display", "version",
                                            "userSelected"}


@pytest.mark.parametrize(("case", "level", "indicator"), [
    ({"shortness_of_breath": True}, "emergency", "critical"),
    ({"lump_behind_knee": True, "tightness_behind_knee": True}, "soon", "warning"),
])
def test_card_indicator_reasons_source_and_disclaimer(kb, case, level, indicator):
    dx = pk.diagnose(case)
    assert dx.triage.level == level
    card = interop.card(dx)
    check_card(card)
    assert card["indicator"] == indicator
    assert card["summary"].startswith(level.replace("_", " ").upper())
    for reason in dx.triage.reasons:
        assert reason in card["detail"]
    assert DISCLAIMER in card["detail"]
    assert interop.fingerprint(kb)[:12] in card["source"]["label"]
    assert card["source"]["topic"]["code"] == level


def test_indicators_never_soften_a_higher_level():
    order = ["info", "warning", "critical"]
    levels = sorted(TriageLevel, key=lambda level: level.rank)
    ranks = [order.index(interop.INDICATORS[level]) for level in levels]
    assert ranks == sorted(ranks)
    assert interop.INDICATORS[TriageLevel.EMERGENCY] == "critical"
    assert interop.INDICATORS[TriageLevel.URGENT] == "critical"  # the cautious reading
    assert interop.INDICATORS[TriageLevel.SELF_CARE] == "info"


def hook_request(response: dict | None) -> dict:
    request = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
               "context": {"userId": "Practitioner/1", "patientId": "1"}}
    if response is not None:
        request["prefetch"] = {"interview": response}
    return request


def test_hook_response_reads_the_prefetched_interview(model):
    done = run_adaptive({"lump_behind_knee": True, "fever": False}, model)
    result = interop.hook_response(hook_request(done), model)
    (card,) = result["cards"]
    check_card(card)
    answers = interop.answers_of(done, model)
    dx = model.diagnose({k: v for k, v in answers.items() if v is not None})
    assert card == interop.card(dx)
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": done}]}
    assert interop.hook_response(hook_request(bundle), model) == result
    assert interop.hook_response(hook_request(None), model) == {"cards": []}
    with pytest.raises(InteropError, match="patient-view"):
        interop.hook_response({**hook_request(done), "hook": "order-select"}, model)


def test_discovery_names_the_service_and_its_prefetch():
    services = interop.discovery()["services"]
    assert [(s["id"], s["hook"]) for s in services] == [("posterior-knee", "patient-view")]
    assert "QuestionnaireResponse?" in services[0]["prefetch"]["interview"]
    assert "{{context.patientId}}" in services[0]["prefetch"]["interview"]


def test_the_worked_examples_in_docs_run():
    """docs/interop.md: every Python block runs, in order, as a reader would paste it."""
    import pathlib
    import re

    require("fhir.resources", "fhir")
    text = (pathlib.Path(__file__).parents[1] / "docs" / "interop.md").read_text(
        encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for number, block in enumerate(blocks):
        exec(compile(block, f"docs/interop.md block {number + 1}", "exec"), namespace)
    # the adaptive example ends on the result it announces
    assert namespace["response"]["status"] == "completed"
    assert namespace["result"]["prediction"][0]["outcome"]["coding"][-1]["code"] == (
        "bakers_cyst")


def test_none_fits_travels_with_every_document():
    """When much of what was reported fits no modelled cause, the RiskAssessment, the
    card and to_dict say so, as the summary does."""
    dx = pk.diagnose({"scaly_skin_rash": True})
    assert dx.none_fits
    ra = dx.to_fhir()
    validate(ra)
    assert dx.none_fits in [n["text"] for n in ra["note"]]
    assert dx.none_fits in interop.card(dx)["detail"]
    assert dx.to_dict()["none_fits"] == dx.none_fits
    plain = pk.diagnose({"lump_behind_knee": True, "tightness_behind_knee": True})
    assert plain.none_fits is None and plain.to_dict()["none_fits"] is None
    assert all("fits none" not in n["text"] for n in plain.to_fhir()["note"])
