"""The Wells score for deep vein thrombosis, beside the model's P(dvt).

The modified Wells rule (Wells et al., N Engl J Med 2003;349:1227-35) adds one point
per item present and subtracts two when another diagnosis is at least as likely:
"DVT likely" at 2 or more, "unlikely" at 1 or less. On the three-level reading
(Wells et al., Lancet 1997;350:1795-8), 0 or less is low, 1-2 moderate, 3 or more
high, with pooled DVT prevalences of 5 %, 17 % and 53 % among outpatients with
suspected DVT (Wells et al., JAMA 2006;295:199-207; figures read in secondary
sources).

Two items need a clinician's examination and are never asked here (pitting oedema
confined to the leg, collateral superficial veins): they and any unanswered item make
the score a range. "Alternative diagnosis at least as likely" (-2) is a clinician's
judgement: it is never decided from the model's own ranking (that would be circular:
clinical review C). Unless a clinician passes ``alternative``, it widens the range
downwards by 2. The modified score's two levels (Wells 2003) are the primary reading;
the three bands, with their pooled prevalences, come from the original score (Wells
1997; Wells 2006 pooled) and are shown for orientation only. See docs/triage.md ("The
Wells score beside P(dvt)") for why the score and P(dvt) can disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from .._text import percent

__all__ = ["WellsScore", "wells_score"]

ITEMS: tuple[tuple[str, str | None], ...] = (
    ("Active cancer (treated now, in the last 6 months, or palliative)", "active_cancer"),
    ("Paralysis, paresis or recent plaster immobilisation of the leg", "immobilisation"),
    ("Recently bedridden 3 days or more, or major surgery within 12 weeks",
     "recent_surgery"),
    ("Tenderness along the deep veins (approximated by tenderness where it hurts)",
     "tenderness"),
    ("Entire leg swollen", "leg_swelling_one_side"),
    ("Calf swelling at least 3 cm more than the other side (approximated by a swollen "
     "calf)", "calf_swelling"),
    ("Pitting oedema confined to the symptomatic leg (needs an examination)", None),
    ("Collateral superficial veins, not varicose (needs an examination)", None),
    ("Previously documented DVT", "previous_clot"),
)
"""(Wells item, the evidence id that answers it or None when only an examination can)."""

THREE_LEVEL = ((0, "low", 0.05), (2, "moderate", 0.17), (99, "high", 0.53))


@dataclass(frozen=True)
class WellsScore:
    """The Wells score as far as the findings determine it.

    ``low`` and ``high`` bound the score (equal when every item is known);
    ``two_level`` is "likely" / "unlikely" and ``three_level`` "low" / "moderate" /
    "high" when the whole range falls in one band, else None; ``prevalence`` is the
    pooled DVT prevalence of the three-level band; ``p_dvt`` the model's posterior;
    ``alternative_as_likely`` is the clinician's answer to that item (None: not given).
    """

    low: int
    high: int
    items: pd.DataFrame = field(repr=False)  # item, evidence, points (1, 0 or None)
    alternative_as_likely: bool | None
    two_level: str | None
    three_level: str | None
    prevalence: float | None
    p_dvt: float

    def summary(self) -> str:
        score = str(self.low) if self.low == self.high else f"{self.low} to {self.high}"
        band = self.two_level or "undetermined (answer more of its items)"
        line = f"Wells score {score}: DVT {band}"
        if self.three_level:
            line += f"; {self.three_level} band, about {self.prevalence:.0%} prevalence " \
                    "among outpatients with suspected DVT"
        if self.alternative_as_likely is None:
            line += " (the 'alternative diagnosis as likely' item, -2, is left to a clinician)"
        return f"{line}. Model P(dvt) = {percent(self.p_dvt)}."

    def __repr__(self) -> str:
        return f"WellsScore({self.summary()})"


def _three_level(points: int) -> tuple[str, float]:
    for upper, name, prevalence in THREE_LEVEL:
        if points <= upper:
            return name, prevalence
    raise AssertionError("unreachable")


def wells_score(findings: Mapping[str, bool], ranking: pd.DataFrame,
                alternative: bool | None = None) -> WellsScore:
    """The Wells score from reported findings, beside the model's P(dvt).

    Parameters
    ----------
    findings
        Reported findings (id -> bool).
    ranking
        A diagnosis's ranking (for P(dvt) only).
    alternative
        A clinician's judgement that another diagnosis is at least as likely as a
        clot (True: -2 points; False: 0); None leaves the item open (a range).

    Examples
    --------
    >>> import pandas as pd
    >>> ranking = pd.DataFrame({"cause": ["dvt"], "probability": [0.3]})
    >>> found = {"calf_swelling": True, "tenderness": True, "previous_clot": True,
    ...          "active_cancer": False, "immobilisation": False, "recent_surgery": False,
    ...          "leg_swelling_one_side": False}
    >>> score = wells_score(found, ranking, alternative=False)
    >>> score.low, score.high, score.two_level
    (3, 5, 'likely')
    >>> wells_score(found, ranking).low   # the item left open: 3 - 2
    1
    """
    probability = dict(zip(ranking["cause"], ranking["probability"]))
    p_dvt = float(probability["dvt"])
    rows = []
    for item, evidence in ITEMS:
        value = findings.get(evidence) if evidence else None
        rows.append({"item": item, "evidence": evidence,
                     "points": None if value is None else int(value)})
    items = pd.DataFrame(rows).astype({"points": "Int64"})
    known = int(items["points"].fillna(0).sum()) - (2 if alternative else 0)
    unknown = int(items["points"].isna().sum())
    low, high = known - (2 if alternative is None else 0), known + unknown
    two = {low >= 2: "likely", high <= 1: "unlikely"}.get(True)
    three_low, three_high = _three_level(low), _three_level(high)
    same = three_low[0] == three_high[0]
    return WellsScore(low, high, items, alternative, two,
                      three_low[0] if same else None, three_low[1] if same else None,
                      p_dvt)


def covers_wells(findings: Mapping[str, bool]) -> bool:
    """True when the findings answer at least one Wells item."""
    return any(evidence in findings for _, evidence in ITEMS if evidence)
