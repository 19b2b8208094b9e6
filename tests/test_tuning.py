"""compare(): how a tuned copy of the priors moves results."""

import pandas as pd
import pytest

import posterior_knee as pk
from posterior_knee.errors import ParameterError

CASES = {
    "lump": {"lump_behind_knee": True, "tightness_behind_knee": True},
    "calf": {"calf_swelling": True, "calf_pain": True},
    "none": {},
}


def test_identical_knowledge_bases_change_nothing(kb):
    table = pk.compare(kb, kb, CASES)
    assert list(table["case"]) == list(CASES)
    assert not table["top_changed"].any() and not table["triage_changed"].any()
    assert (table["largest_change"] == 0).all()


def test_a_tuned_prior_moves_the_result(kb, priors_copy):
    """Edit the CSV copy like a tuner would, load it, compare."""
    causes = pd.read_csv(priors_copy / "causes.csv", dtype=str, keep_default_na=False)
    causes.loc[causes["id"] == "dvt", "prior"] = "0.4"
    causes.to_csv(priors_copy / "causes.csv", index=False)
    tuned = pk.load_knowledge_base(priors_copy)
    table = pk.compare(kb, tuned, CASES).set_index("case")
    assert table.loc["calf", "most_changed"] == "dvt"
    assert table.loc["calf", "top_b"] == "dvt" and table.loc["calf", "top_changed"]
    assert table.loc["calf", "triage_changed"]  # P(dvt) now passes a can't-miss threshold
    direct = pk.diagnose(CASES["calf"], kb=tuned).ranking.set_index("cause")
    before = pk.diagnose(CASES["calf"], kb=kb).ranking.set_index("cause")
    assert table.loc["calf", "largest_change"] == pytest.approx(
        (direct["probability"] - before["probability"]).abs().max())


def test_cases_as_a_frame_or_list(kb):
    frame = pd.DataFrame({"fever": [True, None], "hot_painful_knee": [True, False]})
    expected = ["emergency", pk.diagnose({"hot_painful_knee": False}).triage.level.value]
    assert list(pk.compare(kb, kb, frame)["triage_a"]) == expected
    assert len(pk.compare(kb, kb, [{}, {"fever": False}])) == 2
    with pytest.raises(ParameterError, match="'cases' parameter of compare"):
        pk.compare(kb, kb, 5)
    with pytest.raises(ParameterError, match="'kb_b' parameter"):
        pk.compare(kb, "priors/", CASES)
