"""Batch scoring (Model.diagnose_many) against one diagnosis per row, and its errors."""

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import posterior_knee as pk
import posterior_knee.inference._cases as cases_module
from posterior_knee.clinical._condition import condition_ids
from posterior_knee.errors import EvidenceValueError, ImpossibleEvidenceError

from .strategies import evidence

KB = pk.load_knowledge_base()
IDS = list(KB.evidence_ids)
TOLERANCE = 1e-12
# ten findings present: more than the factored engine's MAX_PRESENT_POSITIVE, so enumerated
MANY = dict.fromkeys(["fever", "calf_pain", "lump_behind_knee", "crepitus", "redness",
                      "warmth", "locking", "giving_way", "night_pain", "tenderness"], True)


def expected(model, cases, index):
    """One model.diagnose per case, as a diagnose_many frame (the independent answer)."""
    rows = []
    for case in cases:
        dx = model.diagnose(case)
        row = dict(zip(dx.ranking["cause"], dx.ranking["probability"]))
        row.update((f"group:{g}", p) for g, p in zip(dx.groups["group"],
                                                     dx.groups["probability"]))
        row["triage"] = dx.triage.level.value
        rows.append(row)
    return pd.DataFrame(rows, index=index)


def assert_scores_equal(got, want):
    assert list(got.index) == list(want.index)
    numbers = [c for c in got.columns if c not in ("triage", "error")]
    assert set(numbers) | {"triage"} == set(want.columns)
    assert all(got[c].dtype == float for c in numbers)
    np.testing.assert_allclose(got[numbers].to_numpy(), want[numbers].to_numpy(dtype=float),
                               rtol=0, atol=TOLERANCE)
    assert got["triage"].tolist() == want["triage"].tolist()


def frame_of(cases, columns=None, index=None):
    return pd.DataFrame(cases, columns=columns or IDS, index=index, dtype=object)


@given(cases=st.lists(evidence(KB, max_size=20), min_size=1, max_size=6),
       extra=st.sampled_from([{}, MANY, {"age_over_50": True, "previous_clot": True}]))
def test_equals_diagnose_per_row(model, cases, extra):
    """Random rows (empty ones, risk factors, more than six present) equal diagnose."""
    cases = [*cases, extra, {}]
    index = [f"case-{i}" for i in range(len(cases))]
    frame = frame_of(cases, index=index)  # every id a column: some columns all missing
    assert_scores_equal(model.diagnose_many(frame), expected(model, cases, index))


def test_fixed_cases_equal_diagnose_per_row(model):
    cases = [{}, MANY, {"age_under_30": True, "age_over_50": False, "plays_sport": True},
             {"shortness_of_breath": True, "calf_pain": True},
             {"known_bakers_cyst": True, "sudden_calf_swelling": True, "fever": False}]
    index = pd.Index([5, 3, 9, 1, 7])
    frame = frame_of(cases, index=index)
    assert_scores_equal(model.diagnose_many(frame), expected(model, cases, index))
    # the enumerated row is counted as such
    scorer = model._batch
    ids = scorer.check_columns(frame)
    parsed = scorer.parse(frame, ids)
    assert scorer.score(parsed.present, parsed.absent, ids).enumerated >= 1


def test_rows_with_many_present_findings_by_elimination(model):
    """Pairs of rows with four, six and seven present findings, each row a different
    pattern: the pairs past the factored engine's batch budget go to elimination (one
    plan per pattern), the others stay one factored batch; all equal one diagnosis per
    row."""
    from posterior_knee.inference._dispatch import BATCH_BUDGET

    rng = np.random.default_rng(12)
    findings = list(KB.finding_ids)
    cases = []
    for m in (6, 6, 7, 7, 4, 4):
        chosen = rng.choice(len(findings), m + 2, replace=False)
        cases.append({findings[k]: bool(i < m) for i, k in enumerate(chosen)})
    cases[-1]["age_over_50"] = True
    frame = frame_of(cases)
    assert_scores_equal(model.diagnose_many(frame), expected(model, cases, frame.index))
    factored = model._engines.factored
    beyond = [m for m in (4, 6, 7) if factored.cost(m) > BATCH_BUDGET]
    assert beyond == [6, 7]  # the point of the test: both routes in one frame
    scorer = model._batch
    ids = scorer.check_columns(frame)
    parsed = scorer.parse(frame, ids)
    assert scorer.score(parsed.present, parsed.absent, ids).enumerated == 4


def random_frame(model, n, seed):
    rng = np.random.default_rng(seed)
    values = rng.choice(np.array([True, False, None], dtype=object), size=(n, len(IDS)),
                        p=[0.06, 0.08, 0.86])
    frame = pd.DataFrame(values, columns=IDS)
    # keep the age bands exclusive
    ages = [m for m in KB.risk_factors["id"] if m.startswith("age_")]
    both = (frame[ages] == True).sum(axis=1) > 1  # noqa: E712
    frame.loc[both, ages[1:]] = False
    return frame


def test_chunk_sizes_give_the_same_answers(model, monkeypatch):
    frame = random_frame(model, 60, seed=1)
    big = model.diagnose_many(frame)
    tiny = model.diagnose_many(frame, chunk_size=7)
    pd.testing.assert_frame_equal(tiny, big, rtol=0, atol=TOLERANCE)
    # the engine's own chunks, made tiny, change nothing either
    monkeypatch.setattr(cases_module, "CHUNK_ELEMENTS", 500)
    pd.testing.assert_frame_equal(model.diagnose_many(frame, chunk_size=13), big,
                                  rtol=0, atol=TOLERANCE)


def test_column_dtypes(model):
    """bool, pandas "boolean" and all-missing float columns are read as such."""
    frame = pd.DataFrame({
        "fever": np.array([True, False, True]),
        "calf_pain": pd.array([True, None, False], dtype="boolean"),
        "lump_behind_knee": [np.nan, np.nan, np.nan],
        "crepitus": [np.True_, None, pd.NA],
    })
    cases = [{"fever": True, "calf_pain": True, "crepitus": True},
             {"fever": False},
             {"fever": True, "calf_pain": False}]
    assert_scores_equal(model.diagnose_many(frame), expected(model, cases, frame.index))


def test_empty_frames(model):
    no_rows = model.diagnose_many(pd.DataFrame({"fever": pd.Series([], dtype=object)}))
    assert len(no_rows) == 0 and "triage" in no_rows.columns
    no_columns = model.diagnose_many(pd.DataFrame(index=["x", "y"]))
    assert_scores_equal(no_columns, expected(model, [{}, {}], ["x", "y"]))


def test_bad_rows_are_all_named_by_index(model):
    frame = pd.DataFrame({
        "fever": [True, "maybe", 1, False, True],
        "age_under_30": [None, None, None, True, False],
        "age_over_50": [None, None, False, True, None],
    }, index=["ann", "bo", "cy", "di", "ed"])
    with pytest.raises(EvidenceValueError) as info:
        model.diagnose_many(frame)
    message = str(info.value)
    assert "3 rows" in message
    assert "Row 'bo': column 'fever' holds 'maybe' (str)" in message
    assert "Row 'cy': column 'fever' holds 1 (int)" in message
    assert "Row 'di'" in message and "'age_under_30' and 'age_over_50'" in message
    assert "'ann'" not in message and "'ed'" not in message
    assert "errors='mark'" in message  # the fix


def test_many_bad_rows_are_counted(model):
    frame = pd.DataFrame({"fever": ["yes"] * 25}, index=range(100, 125))
    with pytest.raises(EvidenceValueError, match=r"and 15 more rows") as info:
        model.diagnose_many(frame, chunk_size=4)  # found across every chunk
    assert "Row 109" in str(info.value) and "Row 110" not in str(info.value)


def test_contradictions_alone_raise_impossible_evidence(model):
    frame = pd.DataFrame({"age_under_30": [True, True], "age_over_50": [False, True]})
    with pytest.raises(ImpossibleEvidenceError, match="Row 1: 'age_under_30'"):
        model.diagnose_many(frame)


def test_mark_mode_keeps_every_row(model):
    frame = pd.DataFrame({
        "fever": [True, "maybe", None, True],
        "age_under_30": [None, None, True, None],
        "age_over_50": [None, None, True, False],
    }, index=list("abcd"))
    marked = model.diagnose_many(frame, errors="mark")
    assert list(marked.index) == list("abcd")
    bad = marked.loc[["b", "c"]]
    assert bad[list(model.structure.cause_ids)].isna().all().all()
    # a bad row keeps the level its valid cells' red flags set (none fire here)
    assert (bad["triage"] == "self_care").all()
    assert "'maybe'" in marked.loc["b", "error"] and "exclusive" in marked.loc["c", "error"]
    good = frame.loc[["a", "d"]]
    clean = model.diagnose_many(good)
    assert marked.loc[["a", "d"], "error"].isna().all()
    assert_scores_equal(marked.loc[["a", "d"]].drop(columns="error"), clean)
    assert "error" not in clean.columns  # only in "mark" mode


def test_zero_probability_rows(kb):
    """Evidence the model itself rules out is a bad row too (found while scoring)."""
    findings = kb.findings.copy()
    finding = "crepitus"  # outside the safety floor, whose findings keep a leak above 0
    findings.loc[findings["id"] == finding, "leak"] = 0.0
    links = kb.finding_links[kb.finding_links["finding"] != finding]
    lonely = pk.Model(kb.replace(findings=findings, finding_links=links))
    frame = pd.DataFrame({finding: [False, True]}, index=["ok", "never"])
    with pytest.raises(ImpossibleEvidenceError, match="Row 'never'"):
        lonely.diagnose_many(frame)
    marked = lonely.diagnose_many(frame, errors="mark")
    assert "probability zero" in marked.loc["never", "error"]
    assert np.isnan(marked.loc["never", "group:dvt"])
    assert marked.loc["ok", "triage"] == lonely.diagnose({finding: False}).triage.level


def test_progress_bar(model, capsys):
    frame = random_frame(model, 12, seed=2)
    with_bar = model.diagnose_many(frame, chunk_size=5, progress=True)
    assert "12/12" in capsys.readouterr().err
    pd.testing.assert_frame_equal(with_bar, model.diagnose_many(frame))


def test_pgmpy_engine_and_pickled_model_agree(model, core, core_reference):
    """The pgmpy engine scores a frame by one ``Model.posterior`` per row: its rows are
    compared on the 20-cause core (a full-network query takes seconds; those queries
    are checked in tests/test_engine.py), the pickled model on the full network."""
    frame = random_frame(model, 5, seed=3)
    pd.testing.assert_frame_equal(core_reference.diagnose_many(frame),
                                  core.diagnose_many(frame), rtol=0, atol=1e-9)
    exact = model.diagnose_many(frame)
    again = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(again.diagnose_many(frame), exact)


# -- vectorised triage --------------------------------------------------------------

RULE_IDS = sorted({name for rule in pk.Model().rules.red_flags
                   for name in condition_ids(rule.condition)})


@given(data=st.data())
def test_vectorised_triage_equals_assess(model, data):
    rules = model.rules
    causes = list(model.structure.cause_ids)
    thresholds = sorted({t.probability for t in rules.thresholds})
    # red-flag ids most of the time, so conjunctions fire; any id sometimes
    ids = data.draw(st.lists(st.sampled_from(RULE_IDS + IDS[:5]), unique=True, max_size=12))
    n = data.draw(st.integers(1, 8))
    present = np.array(data.draw(st.lists(st.lists(st.booleans(), min_size=len(ids),
                                                   max_size=len(ids)),
                                          min_size=n, max_size=n)), dtype=bool)
    present = present.reshape(n, len(ids))
    # probabilities right at, just under and far from the thresholds
    value = st.one_of(st.sampled_from(thresholds), st.floats(0, 1),
                      st.sampled_from(thresholds).map(lambda p: np.nextafter(p, 0)))
    probabilities = np.array(data.draw(st.lists(st.lists(value, min_size=len(causes),
                                                         max_size=len(causes)),
                                                min_size=n, max_size=n)))
    got = rules.levels(present, ids, dict(zip(causes, probabilities.T)))
    for row in range(n):
        names = [name for name, on in zip(ids, present[row]) if on]
        want = rules.assess(names, dict(zip(causes, probabilities[row]))).level.value
        assert got[row] == want
