"""The Wells score beside P(dvt)."""

import pandas as pd
import pytest

from posterior_knee.clinical.wells import ITEMS, wells_score


def ranking(p_dvt, p_other):
    return pd.DataFrame({"cause": ["dvt", "calf_strain"], "probability": [p_dvt, p_other]})


ALL_ASKED = {evidence: False for _, evidence in ITEMS if evidence}


@pytest.mark.parametrize(
    ("present", "alternative", "low", "two", "three"),
    [
        ([], True, -2, "unlikely", "low"),  # the two examination items stay unknown
        (["leg_swelling_one_side", "calf_swelling", "previous_clot"], False, 3, "likely",
         "high"),
        (["calf_swelling"], False, 1, None, None),
        (["calf_swelling", "tenderness"], False, 2, "likely", None),
    ],
)
def test_points_and_bands(present, alternative, low, two, three):
    findings = {**ALL_ASKED, **dict.fromkeys(present, True)}
    score = wells_score(findings, ranking(0.2, 0.5 if alternative else 0.1), alternative)
    assert score.alternative_as_likely is alternative
    assert score.low == low and score.high == low + 2  # pitting oedema, collateral veins
    assert score.two_level == two
    assert score.three_level == three


def test_unanswered_items_widen_the_range():
    score = wells_score({"calf_swelling": True}, ranking(0.3, 0.1), alternative=False)
    assert (score.low, score.high) == (1, 1 + len(ITEMS) - 1)
    assert score.two_level is None and "undetermined" in score.summary()


def test_shown_beside_the_model(model):
    dx = model.diagnose({"leg_swelling_one_side": True, "calf_swelling": True,
                         "previous_clot": True})
    p_dvt = dx.ranking.set_index("cause").loc["dvt", "probability"]
    assert dx.wells.p_dvt == pytest.approx(p_dvt)
    assert "Wells score" in dx.summary()
    assert "Wells score" not in model.diagnose({"crepitus": True}).summary()


def test_the_alternative_item_is_never_decided_by_the_model():
    """Not circular (clinical review C): whatever the model ranks first, the item stays
    open unless a clinician answers it, so a clinician's Wells 3 shows as 1 to 3."""
    findings = {**ALL_ASKED, "calf_swelling": True, "tenderness": True, "previous_clot": True}
    for p_other in (0.05, 0.9):
        score = wells_score(findings, ranking(0.2, p_other))
        assert score.alternative_as_likely is None
        assert (score.low, score.high) == (1, 5)
        assert "left to a clinician" in score.summary()
