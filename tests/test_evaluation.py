"""The vignette suite and its scorer: the scorer is checked, never the scores."""

import hashlib
import json
import math
import pickle
import re
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee.cli import main
from posterior_knee.errors import ImpossibleEvidenceError, ParameterError, PosteriorKneeError
from posterior_knee.evaluation import LEVELS, METRICS, SCHEMA, split_of, wilson

# --- the shipped data --------------------------------------------------------------

@pytest.fixture(scope="module")
def suite():
    return pk.vignettes()


def test_every_case_has_a_source_a_cause_and_a_minimum_triage(suite):
    assert len(suite) >= 60 and suite["id"].is_unique
    assert list(suite.columns) == list(pk.evaluation.COLUMNS)
    for row in suite.itertuples():
        assert row.citation.strip(), row.id
        assert re.match(r"https?://\S+$", row.url), row.id
        assert row.min_triage in LEVELS, row.id
        assert row.cause and row.diagnosis_text, row.id
        assert row.kind in ("case_report", "teaching_case", "exam_vignette"), row.id
        assert row.quality in ("A", "B", "C"), row.id
        assert isinstance(row.present, tuple) and isinstance(row.absent, tuple)
        assert not set(row.present) & set(row.absent), row.id


def test_the_ten_first_dev_cases_are_all_in_the_dev_split(suite):
    first = suite[suite["id"].str.fullmatch(r"dev-D\d+")]
    assert sorted(first["id"]) == sorted(f"dev-D{i}" for i in range(1, 11))
    assert set(first["split"]) == {"dev"}


def test_the_split_follows_the_written_rule(suite):
    for case_id, part in zip(suite["id"], suite["split"]):
        if case_id.startswith("dev-D"):
            expected = "dev"
        else:  # the rule as docs/vignettes.md states it, computed independently
            number = int(hashlib.sha256(case_id.encode("utf-8")).hexdigest(), 16)
            expected = "dev" if number % 2 == 0 else "test"
        assert part == expected == split_of(case_id), case_id
    assert split_of("a01") == split_of("a01")
    dev, test = pk.vignettes("dev"), pk.vignettes("test")
    assert set(dev["split"]) == {"dev"} and set(test["split"]) == {"test"}
    assert len(dev) + len(test) == len(suite) == len(pk.vignettes("all"))


def test_vignettes_returns_a_fresh_copy():
    first = pk.vignettes()
    first.loc[0, "cause"] = "changed"
    assert pk.vignettes().loc[0, "cause"] != "changed"


# --- Wilson intervals --------------------------------------------------------------

def test_wilson_matches_published_values():
    # Brown, Cai and DasGupta (2001) and the usual tables: 8/10 -> 0.490-0.943;
    # 0/10 -> 0-0.278; 1/5 -> 0.036-0.624
    assert wilson(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(1, 5) == pytest.approx((0.0362, 0.6245), abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_holds_the_observed_share(counts):
    k, n = counts
    low, high = wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert (low == 0.0) == (k == 0) and (high == 1.0) == (k == n)


# --- the scorer on hand-made cases -------------------------------------------------

class ScriptedModel(pk.Model):
    """A real model whose diagnose returns scripted rankings, keyed by a marker finding."""

    def __init__(self, kb, script):
        super().__init__(kb)
        self.script = script
        self.calls = []

    def diagnose(self, findings, **kwargs):
        self.calls.append((dict(findings), kwargs))
        marker = next(name for name in self.script if findings.get(name))
        top, level = self.script[marker]
        if top is None:
            error = PosteriorKneeError("scripted failure")
            error.triage = self.red_flag_triage(findings)
            raise error
        rest = [c for c in self.kb.cause_ids if c not in dict(top)]
        ranking = pd.DataFrame(top + [(c, 0.0) for c in rest],
                               columns=["cause", "probability"])
        group = dict(zip(self.kb.causes["id"], self.kb.causes["group"]))
        groups = pd.DataFrame({"group": list(dict.fromkeys(group[c] for c in
                                                            ranking["cause"]))})
        return SimpleNamespace(ranking=ranking, groups=groups, findings=dict(findings),
                               triage=SimpleNamespace(level=pk.TriageLevel(level)),
                               red_flags=())


SCRIPT = {  # marker finding: (ranking head, triage level)
    "calf_pain": ([("calf_strain", 0.5), ("dvt", 0.25)], "soon"),
    "fever": ([("calf_strain", 0.5), ("dvt", 0.5)], "emergency"),
    "lump_behind_knee": ([("calf_strain", 0.8), ("dvt", 0.1), ("hamstring_strain", 0.1),
                          ("bakers_cyst", 0.0)], "self_care"),
    "locking": ([("calf_strain", 0.5)], "urgent"),
    "chest_pain": (None, None),
}
CASES = [
    {"id": "A", "cause": "calf_strain", "min_triage": "soon",
     "present": ("calf_pain", "not_an_id"), "absent": ()},
    {"id": "B", "cause": "dvt", "min_triage": "self_care", "present": "fever",
     "absent": "calf_pain;also_unknown"},
    {"id": "C", "cause": "bakers_cyst", "min_triage": "urgent",
     "present": ("lump_behind_knee",), "absent": ()},
    {"id": "D", "cause": "made_up_cause", "min_triage": "emergency",
     "present": ("locking",), "absent": ()},
    {"id": "E", "cause": "septic_arthritis", "min_triage": "urgent",
     "present": ("chest_pain",), "absent": ()},
]


@pytest.fixture(scope="module")
def scripted(kb):
    model = ScriptedModel(kb, SCRIPT)
    return model, pk.evaluate(model, CASES)


def figure(result, metric, scope="all"):
    row = result.summary[(result.summary["metric"] == metric)
                         & (result.summary["scope"] == scope)]
    assert len(row) == 1, (metric, scope)
    return row.iloc[0]


def test_ranks_and_top_k_match_hand_computation(scripted):
    _, result = scripted
    cases = result.cases.set_index("id")
    assert cases["rank"].tolist()[:3] == [1, 2, 4]
    assert math.isnan(cases.loc["D", "rank"]) and math.isnan(cases.loc["E", "rank"])
    assert figure(result, "top1")["value"] == pytest.approx(1 / 5)
    assert figure(result, "top3")["value"] == pytest.approx(2 / 5)
    assert figure(result, "top5")["value"] == pytest.approx(3 / 5)
    assert figure(result, "mrr")["value"] == pytest.approx((1 + 1 / 2 + 1 / 4) / 5)
    # the modelled causes: D's cause is not a cause of the knowledge base
    assert figure(result, "cases", "modelled")["value"] == 4
    assert figure(result, "top3", "modelled")["value"] == pytest.approx(2 / 4)
    assert figure(result, "mrr", "modelled")["value"] == pytest.approx(1.75 / 4)
    top1 = figure(result, "top1")
    assert (top1["low"], top1["high"]) == pytest.approx(wilson(1, 5))
    assert top1["n"] == 5
    assert cases.loc["C", "top3"] == ("calf_strain", "dvt", "hamstring_strain")
    assert cases.loc["A", "probability"] == 0.5 and cases.loc["B", "probability"] == 0.5


def test_the_contract_scope_keeps_the_cases_of_the_contract_causes(kb):
    # calf strain is a contract cause; cellulitis is modelled but was added since; the
    # third cause is neither
    cases = [{"id": "in", "cause": "calf_strain", "min_triage": "soon",
              "present": ("calf_pain",), "absent": ()},
             {"id": "added", "cause": "cellulitis", "min_triage": "soon",
              "present": ("calf_pain",), "absent": ()},
             {"id": "out", "cause": "made_up_cause", "min_triage": "soon",
              "present": ("calf_pain",), "absent": ()}]
    result = pk.evaluate(ScriptedModel(kb, SCRIPT), cases)
    assert [figure(result, "cases", scope)["value"] for scope in pk.evaluation.SCOPES] \
        == [3, 2, 1]
    assert result.value("top1", "contract") == 1.0  # calf strain ranked first
    assert result.value("top1", "modelled") == pytest.approx(1 / 2)
    assert result.value("top1") == pytest.approx(1 / 3)
    assert "contract cases" in str(result)
    with pytest.raises(ParameterError, match="scope"):
        result.value("top1", "contracts")


def test_the_text_gives_n_only_where_a_figure_is_not_over_every_case(scripted):
    _, result = scripted
    lines = {line.split("  ")[0]: line for line in str(result).splitlines()}
    # the Brier score leaves out the case that raised (4 of 5); the shares count all
    assert "(n=4)" in lines["Brier score over all causes (lower is better)"]
    assert "n=" not in lines["confirmed cause in the top 3"]
    table = [lines[label] for label in METRICS.values() if label in lines]
    assert len(table) >= 10 and max(map(len, table)) <= 120


def test_brier_is_the_sum_over_causes_averaged_over_scored_cases(scripted):
    _, result = scripted
    brier = result.cases.set_index("id")["brier"]
    # A: (0.5-1)^2 + 0.25^2; B: 0.5^2 + (0.5-1)^2; C: 0.8^2 + 0.1^2 + 0.1^2 + (0-1)^2;
    # D (cause not modelled, every outcome 0): 0.5^2
    assert brier[["A", "B", "C", "D"]].tolist() == pytest.approx([0.3125, 0.5, 1.66, 0.25])
    assert math.isnan(brier["E"])
    assert figure(result, "brier")["value"] == pytest.approx(2.7225 / 4)
    assert figure(result, "brier")["n"] == 4
    assert figure(result, "brier", "modelled")["value"] == pytest.approx(2.4725 / 3)


def test_triage_is_scored_against_the_lowest_acceptable_level(scripted):
    _, result = scripted
    cases = result.cases.set_index("id")
    assert cases["triage_ok"].tolist() == [True, True, False, False, True]
    assert cases["triage_within_one"].tolist() == [True, True, False, True, True]
    assert cases["over_triage_2"].tolist() == [False, True, False, False, False]
    assert figure(result, "triage_ok")["value"] == pytest.approx(3 / 5)
    assert figure(result, "triage_within_one")["value"] == pytest.approx(4 / 5)
    assert figure(result, "over_triage_2")["value"] == pytest.approx(1 / 5)


def test_unknown_ids_are_dropped_and_counted(scripted):
    model, result = scripted
    cases = result.cases.set_index("id")
    assert cases.loc["A", "unknown_ids"] == ("not_an_id",)
    assert cases.loc["B", "unknown_ids"] == ("also_unknown",)
    assert figure(result, "unknown_ids")["value"] == 2
    assert figure(result, "unknown_ids")["n"] == 2
    seen = [findings for findings, _ in model.calls]
    assert {"calf_pain": True} in seen and {"fever": True, "calf_pain": False} in seen
    assert all("not_an_id" not in f and "also_unknown" not in f for f in seen)


def test_unmodelled_causes_are_misses_in_their_own_group(scripted):
    _, result = scripted
    row = result.cases.set_index("id").loc["D"]
    assert not row["modelled"] and row["group"] == "not_modelled"
    assert not row["hit5"] and row["reciprocal_rank"] == 0
    groups = result.per_group.set_index("group")
    assert groups.loc["not_modelled", "n"] == 1
    assert groups["n"].sum() == len(CASES)
    causes = result.per_cause.set_index("cause")
    assert not causes.loc["made_up_cause", "modelled"]
    assert causes.loc["dvt", "top3"] == 1.0 and causes.loc["dvt", "top1"] == 0.0


def test_a_case_that_raises_keeps_its_red_flag_triage(scripted):
    _, result = scripted
    row = result.cases.set_index("id").loc["E"]
    assert row["error"] == "scripted failure"
    assert row["triage"] == "emergency"  # chest pain is a red flag
    assert figure(result, "errors")["value"] == 1


def test_a_real_impossible_case_is_recorded_not_raised(model):
    cases = [
        {"id": "bad", "cause": "dvt", "min_triage": "urgent",
         "present": ("age_under_30", "age_over_50", "chest_pain")},
        {"id": "twice", "cause": "dvt", "min_triage": "urgent",
         "present": ("fever",), "absent": ("fever",)},
        {"id": "fine", "cause": "bakers_cyst", "min_triage": "soon",
         "present": ("lump_behind_knee",)},
    ]
    with pytest.raises(ImpossibleEvidenceError) as info:
        model.diagnose(dict.fromkeys(cases[0]["present"], True))
    result = pk.evaluate(model, cases).cases.set_index("id")
    assert result.loc["bad", "triage"] == info.value.triage.level.value == "emergency"
    assert result.loc["bad", "error"] and result.loc["twice", "error"]
    assert "fever" in result.loc["twice", "error"]
    assert result.loc["fine", "error"] is None and result.loc["fine", "rank"] >= 1


def test_rank_by_is_passed_only_when_given(kb):
    model = ScriptedModel(kb, SCRIPT)
    pk.evaluate(model, CASES[:1])
    assert model.calls[-1][1] == {}
    pk.evaluate(model, CASES[:1], rank_by="some_measure")
    assert model.calls[-1][1] == {"rank_by": "some_measure"}


def test_reliability_bins_the_top_cause(scripted):
    _, result = scripted
    table = result.reliability
    assert table["count"].sum() == 4  # the case that raised is left out
    middle = table[table["bin"] == "0.4-0.6"].iloc[0]  # A, B and D: top cause at 0.5
    assert middle["count"] == 3 and middle["mean_probability"] == pytest.approx(0.5)
    assert middle["observed"] == pytest.approx(1 / 3)
    high = table[table["bin"] == "0.8-1.0"].iloc[0]  # C: top cause 0.8, wrong
    assert high["count"] == 1 and high["observed"] == 0.0


def test_the_split_filters_only_cases_that_carry_one(kb):
    model = ScriptedModel(kb, SCRIPT)
    marked = [dict(case, split="dev" if i < 2 else "test") for i, case in enumerate(CASES)]
    assert figure(pk.evaluate(model, marked), "cases")["value"] == 2
    assert figure(pk.evaluate(model, marked, split="test"), "cases")["value"] == 3
    assert figure(pk.evaluate(model, marked, split=None), "cases")["value"] == 5
    assert figure(pk.evaluate(model, CASES, split="test"), "cases")["value"] == 5


def test_the_required_vocabulary_keeps_only_the_contract_ids(kb):
    model = ScriptedModel(kb, SCRIPT)
    case = {"id": "x", "cause": "dvt", "min_triage": "soon",
            "present": ("calf_pain", "pain_hollow_of_knee", "age_over_50"),
            "absent": ("fever", "cold_pale_foot")}
    full = pk.evaluate(model, [case])
    assert model.calls[-1][0] == {"calf_pain": True, "pain_hollow_of_knee": True,
                                  "age_over_50": True, "fever": False,
                                  "cold_pale_foot": False}
    cut = pk.evaluate(model, [case], vocabulary="required")
    assert model.calls[-1][0] == {"calf_pain": True, "age_over_50": True, "fever": False}
    assert cut.cases.loc[0, "unknown_ids"] == () == full.cases.loc[0, "unknown_ids"]
    assert (full.vocabulary, cut.vocabulary) == ("full", "required")
    assert "required vocabulary" in repr(cut) and "required vocabulary" in str(cut)
    assert cut.to_dict()["vocabulary"] == "required"


def test_the_required_vocabulary_is_the_contract():
    from posterior_knee.knowledge._contract import (
        REQUIRED_CAUSES,
        REQUIRED_FINDINGS,
        REQUIRED_RISK_FACTORS,
    )

    from .vocabulary import CAUSES, FINDINGS, RISK_FACTORS

    assert REQUIRED_CAUSES == set(CAUSES)
    assert REQUIRED_FINDINGS == set(FINDINGS)
    assert REQUIRED_RISK_FACTORS == set(RISK_FACTORS)


def test_the_shipped_suite_runs_through_the_real_model(model):
    result = pk.evaluate(model, split="dev")
    assert len(result.cases) == len(pk.vignettes("dev"))
    assert set(result.summary["metric"]) == set(METRICS) - {"questions_asked",
                                                             "emergency_stops"}
    assert result.cases["emergency_stop"].isna().all()  # no interview
    assert result.cases["triage"].isin(LEVELS).all()
    modelled = result.cases[result.cases["modelled"]]
    assert modelled["rank"].between(1, len(model.kb.causes)).all()


def test_the_interview_answers_from_the_case(model):
    cases = [{"id": "x", "cause": "bakers_cyst", "min_triage": "soon",
              "present": ("lump_behind_knee", "tightness_behind_knee"), "absent": ("fever",)}]
    result = pk.evaluate(model, cases, interview=True)
    asked = figure(result, "questions_asked")
    assert asked["value"] == result.cases.loc[0, "questions_asked"] >= 1
    assert result.interview and "interview" in repr(result)
    assert result.cases.loc[0, "emergency_stop"] is False
    assert figure(result, "emergency_stops")["value"] == 0.0


# chest pain stops the interview at its first question (the red-flag screen); the rest
# of the case is only learnt by a person who goes on
EMERGENCY_CASE = [{"id": "x", "cause": "dvt", "min_triage": "emergency",
                   "present": ("chest_pain", "calf_pain", "calf_swelling", "recent_surgery"),
                   "absent": ("fever",)}]


def test_the_interview_stops_at_an_emergency_unless_the_person_carries_on(model):
    stopped = pk.evaluate(model, EMERGENCY_CASE, interview=True)
    going_on = pk.evaluate(model, EMERGENCY_CASE, interview=True, carry_on=True)
    first, then = stopped.cases.iloc[0], going_on.cases.iloc[0]
    assert first["emergency_stop"] is True and then["emergency_stop"] is True
    assert first["triage"] == then["triage"] == "emergency"
    assert then["questions_asked"] > first["questions_asked"]
    # the answers after the stop count: the clot's probability moves with them
    assert then["probability"] != first["probability"]
    assert figure(going_on, "emergency_stops")["value"] == 1.0
    assert not stopped.carry_on and going_on.carry_on
    assert "carry on" in repr(going_on) and "past an emergency stop" in str(going_on)
    assert going_on.to_dict()["carry_on"] is True


def test_views_travel(scripted):
    _, result = scripted
    assert "\n" not in repr(result) and repr(result).startswith("Evaluation(")
    text = str(result)
    assert pk.DISCLAIMER in text and "By group" in text
    assert METRICS["top3"] in text
    page = result._repr_html_()
    assert "<table" in page and "does not replace" in page
    data = json.loads(json.dumps(result.to_dict()), parse_constant=_no_nan)
    assert data["schema"] == SCHEMA
    assert {r["metric"] for r in data["summary"]} >= {"top1", "brier", "triage_ok"}
    assert data["cases"][0]["unknown_ids"] == ["not_an_id"]
    copy = pickle.loads(pickle.dumps(result))
    pd.testing.assert_frame_equal(copy.summary, result.summary)


def _no_nan(token):
    raise AssertionError(f"JSON holds {token}")


@pytest.mark.parametrize("call", [
    lambda: pk.evaluate(kb="priors/"),
    lambda: pk.evaluate(split="train"),
    lambda: pk.evaluate(rank_by=3),
    lambda: pk.evaluate(interview="yes"),
    lambda: pk.evaluate(carry_on=True),
    lambda: pk.evaluate(vocabulary="core"),
    lambda: pk.evaluate(cases="cases.csv"),
    lambda: pk.evaluate(cases=pd.DataFrame({"id": ["x"], "cause": ["dvt"]})),
    lambda: pk.evaluate(cases=[{"cause": "dvt", "min_triage": "later"}]),
    lambda: pk.evaluate(cases=[{"cause": "dvt", "min_triage": "soon", "present": 3}]),
    lambda: pk.vignettes("train"),
], ids=["kb", "split", "rank_by", "interview", "carry_on", "vocabulary", "cases", "columns",
        "level", "ids", "vignettes"])
def test_bad_values_give_a_clear_error(call):
    with pytest.raises(ParameterError, match=r"The '\w+' parameter of \w+ must"):
        call()


# --- the command -------------------------------------------------------------------

def test_the_command_prints_json_and_text(capsys):
    assert main(["evaluate", "--json"]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out, parse_constant=_no_nan)
    assert data["schema"] == SCHEMA and data["split"] == "dev" and err == ""
    assert len(data["cases"]) == len(pk.vignettes("dev"))
    assert main(["evaluate"]) == 0
    out, _ = capsys.readouterr()
    assert "top 3" in out and "By group" in out and pk.DISCLAIMER in out
    assert main(["evaluate", "--vocabulary", "required", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vocabulary"] == "required"


def test_the_command_carries_on_through_the_interview(capsys, monkeypatch):
    seen = {}

    def scored(kb, **options):  # the whole suite through the interview takes minutes
        seen.update(options)
        return pk.evaluate(kb, EMERGENCY_CASE, **options)

    monkeypatch.setattr("posterior_knee.evaluation.evaluate", scored)
    assert main(["evaluate", "--carry-on", "--json"]) == 0
    data = json.loads(capsys.readouterr().out, parse_constant=_no_nan)
    assert seen["interview"] is True and seen["carry_on"] is True
    assert data["carry_on"] is True and data["cases"][0]["emergency_stop"] is True


def test_the_command_reads_tuned_priors(capsys, priors_copy):
    (priors_copy / "causes.csv").write_text("id,label\n")
    assert main(["evaluate", "--priors", str(priors_copy)]) == 1
    assert "causes.csv" in capsys.readouterr().err
