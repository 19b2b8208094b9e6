"""The public API contract of DESIGN.md, and clear errors for bad input."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import posterior_knee as pk
from posterior_knee.errors import (
    EvidenceValueError,
    ImpossibleEvidenceError,
    PosteriorKneeError,
    UnknownIdError,
)

from .fresh import run_python


def test_public_names():
    for name in ("load_knowledge_base", "diagnose", "Model", "KnowledgeBase", "Diagnosis",
                 "TriageLevel", "errors"):
        assert hasattr(pk, name)
    assert all(not name.startswith("_") or name == "__version__" for name in pk.__all__)


def test_every_public_name_resolves_though_most_load_when_first_used():
    code = ("import sys, posterior_knee as pk; "
            "assert 'pandas' not in sys.modules, 'pandas imported with the package'; "
            "from posterior_knee import Interview; "
            "missing = [n for n in pk.__all__ if getattr(pk, n, None) is None]; "
            "assert not missing, missing; "
            "assert set(pk.__all__) <= set(dir(pk)); "
            "assert pk.result.SCHEMA_VERSION and pk.interop.card; "
            "import posterior_knee.model as m; assert pk.Model is m.Model")
    run_python(code)
    with pytest.raises(AttributeError, match="no attribute 'diagnosis'"):
        pk.diagnosis  # noqa: B018


def test_diagnose_result_shape(kb):
    dx = pk.diagnose({"lump_behind_knee": True, "fever": False})
    assert list(dx.ranking.columns) == ["cause", "label", "group", "probability", "prior",
                                        "disablement", "sufficiency", "must_not_miss",
                                        "icd10", "icd10cm", "snomed"]
    assert len(dx.ranking) == len(kb.causes)
    # ordered by the default ranking (expected disablement), ties by probability
    assert dx.rank_by == "disablement"
    assert dx.ranking["disablement"].round(12).is_monotonic_decreasing
    assert set(dx.ranking["cause"]) == set(kb.cause_ids)
    assert list(dx.groups.columns) == ["group", "label", "probability", "prior"]
    assert dx.groups["probability"].is_monotonic_decreasing
    assert isinstance(dx.triage.level, pk.TriageLevel)
    assert dx.triage.level in ("emergency", "urgent", "soon", "self_care")
    assert isinstance(dx.red_flags, tuple)
    assert dict(dx.findings) == {"lump_behind_knee": True, "fever": False}


def test_result_is_immutable():
    dx = pk.diagnose({"fever": False})
    with pytest.raises(dataclasses.FrozenInstanceError):
        dx.triage = None
    with pytest.raises(TypeError):
        dx.findings["fever"] = True


def test_every_view_carries_the_disclaimer():
    dx = pk.diagnose({"calf_pain": True})
    assert pk.DISCLAIMER in str(dx) and pk.DISCLAIMER in dx.summary()
    assert "does not replace a clinician" in repr(dx)  # and points to the report
    page = dx._repr_html_()
    assert "does not replace" in page and "<table>" in page
    assert "Why <strong>" in page and "calf_pain" in page


def test_diagnose_with_explicit_kb_and_model_agree(kb, model):
    case = {"injury_twist": True, "popping_at_injury": True}
    a, b = pk.diagnose(case, kb=kb), model.diagnose(case)
    pd.testing.assert_frame_equal(a.ranking, b.ranking)


def test_unknown_id_suggests_the_closest():
    with pytest.raises(UnknownIdError, match="Did you mean 'lump_behind_knee'") as info:
        pk.diagnose({"lump_behind_the_knee": True})
    assert info.value.suggestion == "lump_behind_knee"
    assert isinstance(info.value, PosteriorKneeError)


def test_cause_given_as_evidence_is_explained():
    with pytest.raises(UnknownIdError, match="is a cause"):
        pk.diagnose({"dvt": True})


@pytest.mark.parametrize("value", ["yes", 1, 0.0, [True], "True"])
def test_non_boolean_value_is_rejected(value):
    with pytest.raises(EvidenceValueError, match="'fever' must be True"):
        pk.diagnose({"fever": value})


def test_numpy_booleans_and_missing_values_are_accepted():
    a = pk.diagnose({"fever": np.bool_(True), "calf_pain": None, "redness": float("nan")})
    b = pk.diagnose({"fever": True})
    pd.testing.assert_frame_equal(a.ranking, b.ranking)


def test_findings_must_be_a_mapping():
    with pytest.raises(EvidenceValueError, match="mapping"):
        pk.diagnose(["fever"])


def test_impossible_evidence():
    with pytest.raises(ImpossibleEvidenceError):
        pk.diagnose({"age_under_30": True, "age_over_50": True})


def test_model_parameter_errors(kb):
    with pytest.raises(TypeError, match="KnowledgeBase"):
        pk.Model("priors/")
    with pytest.raises(ValueError, match="'exact' or 'pgmpy'"):
        pk.Model(kb, engine="fast")


def test_diagnose_many(model):
    frame = pd.DataFrame(
        {"fever": [True, False, None], "hot_painful_knee": [True, pd.NA, False]},
        index=["a", "b", "c"])
    scores = model.diagnose_many(frame)
    assert list(scores.index) == ["a", "b", "c"]
    assert scores.loc["a", "triage"] == "emergency"
    one = model.diagnose({"fever": False})
    by_cause = dict(zip(one.ranking["cause"], one.ranking["probability"]))
    for cause, p in by_cause.items():
        assert scores.loc["b", cause] == pytest.approx(p, abs=1e-12)
    assert "group:dvt" in scores.columns


def test_diagnose_many_reports_the_bad_row(model):
    frame = pd.DataFrame({"fever": [True, "maybe"]}, index=[10, 11])
    with pytest.raises(EvidenceValueError, match="Row 11"):  # names the bad row
        model.diagnose_many(frame)
    with pytest.raises(UnknownIdError, match="Did you mean 'fever'"):
        model.diagnose_many(pd.DataFrame({"fevr": [True]}))


def test_questions_table(kb):
    table = kb.questions()
    assert set(table["id"]) == set(kb.evidence_ids)
    assert table["question"].str.endswith("?").all()
