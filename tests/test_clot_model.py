"""The clot model against published figures (issue 10, clinical review C and D).

Pure-Wells vignettes: calf pain plus the seven answerable Wells items, each answered yes
or no, nothing else. Published prevalences of the three bands among outpatients with
suspected DVT: 5 / 17 / 53 % (Wells 2006, pooled). These are calibration targets from
published figures, not cases: see docs/model.md ("The clot model").
"""

import itertools

import numpy as np
import pandas as pd
import pytest

from posterior_knee.clinical.wells import ITEMS

WELLS = tuple(name for _, name in ITEMS if name)
NO_INJURY = dict.fromkeys(("injury_push_off", "injury_blow_or_fall", "injury_twist"), False)


@pytest.fixture(scope="module")
def bands(model):
    combos = list(itertools.product((False, True), repeat=len(WELLS)))
    frame = pd.DataFrame([{"calf_pain": True, **dict(zip(WELLS, bits))} for bits in combos])
    p = model.diagnose_many(frame.astype(object))["dvt"].to_numpy()
    score = np.array([sum(bits) for bits in combos])
    return {"low": p[score == 0], "moderate": p[(score >= 1) & (score <= 2)],
            "high": p[score >= 3]}


def p_dvt(model, case, cause="dvt"):
    return model.diagnose(case).ranking.set_index("cause").loc[cause, "probability"]


@pytest.mark.parametrize(("band", "low", "high"), [
    ("low", 0.02, 0.07), ("moderate", 0.12, 0.22), ("high", 0.45, 0.60)])
def test_pure_wells_band_means_are_near_the_published_prevalences(bands, band, low, high):
    assert low <= bands[band].mean() <= high


@pytest.mark.xfail(strict=True, reason=(
    "known gap (docs/model.md): with conditionally independent signs weighted as "
    "Goodacre's weak likelihood ratios, the weakest high-band vignettes (cancer + "
    "tenderness + calf swelling) reach about 12-15 %; triage is urgent through the "
    "wells_dvt_likely red flag"))
def test_no_high_band_vignette_is_below_25_percent(bands):
    assert bands["high"].min() >= 0.25


def test_swelling_warmth_and_surgery_no_longer_overcount(model):
    assert p_dvt(model, {"leg_swelling_one_side": True, "warmth": True,
                         "recent_surgery": True}) <= 0.45


def test_strong_risk_factors_weigh_more_than_travel_or_hormones(kb):
    odds = kb.risk_effects[kb.risk_effects["cause"] == "dvt"].set_index("risk_factor")
    odds = odds["odds_ratio"]
    weak = max(odds["long_travel"], odds["hormone_therapy"])
    for strong in ("recent_surgery", "immobilisation", "active_cancer", "previous_clot"):
        assert odds[strong] > weak
    if "postpartum" in odds:
        assert odds["postpartum"] > odds["pregnancy"]


@pytest.mark.parametrize("case", [{"calf_swelling": True}, {"leg_swelling_one_side": True},
                                  {"calf_swelling": True, "calf_pain": True}])
def test_a_clot_is_ten_times_as_likely_as_a_burst_cyst_in_a_swollen_leg(model, case):
    assert p_dvt(model, case) >= 10 * p_dvt(model, case, "bakers_cyst_rupture")


NO_PUSH_OFF = ["recent_surgery", "immobilisation", "pregnancy", "postpartum"]


@pytest.mark.parametrize("risk", NO_PUSH_OFF)
@pytest.mark.parametrize("signs", [(), ("calf_swelling",), ("tenderness",)], ids=repr)
def test_calf_strain_needs_an_event(model, risk, signs):
    """Clinical review D: after an operation, in a cast, pregnant or just after a
    birth, calf pain with no injury reported is a clot before it is a strain."""
    case = {"calf_pain": True, risk: True, **NO_INJURY, **dict.fromkeys(signs, True)}
    assert p_dvt(model, case) > p_dvt(model, case, "calf_strain")
    with_push_off = {"calf_pain": True, "injury_push_off": True}
    assert p_dvt(model, with_push_off, "calf_strain") > \
        2 * p_dvt(model, {"calf_pain": True, **NO_INJURY}, "calf_strain")


@pytest.mark.parametrize("risk", NO_PUSH_OFF)
def test_an_operation_or_a_cast_makes_a_calf_strain_less_likely(model, risk):
    # clinical review D: no push-off after surgery or in a cast, so the same calf
    # findings point less to a strain and more to a clot
    case = {"calf_pain": True, "calf_swelling": True, "tenderness": True}
    assert p_dvt(model, {**case, risk: True}, "calf_strain") < p_dvt(model, case, "calf_strain")
