"""The safety floor: red flags and can't-miss thresholds no tuned knowledge base may weaken.

The rules below are the minimum the two source documents demand (see
``VOCABULARY.md`` in the design notes and ``docs/triage.md``). A knowledge base may add
rules and raise levels; one whose ``red_flags.csv`` would triage any of these
situations lower, or that drops the can't-miss thresholds for a clot or a joint
infection, is rejected on load.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from ..clinical._condition import Condition, condition_ids, format_condition
from ..clinical.triage import TriageLevel, TriageRules
from ..errors import Problem

if TYPE_CHECKING:
    from .base import KnowledgeBase

_E, _U, _S = TriageLevel.EMERGENCY, TriageLevel.URGENT, TriageLevel.SOON
_CLOT_RISKS = ("previous_clot", "hormone_therapy", "pregnancy", "smoker", "recent_surgery",
               "long_travel")
_INJURIES = ("injury_twist", "injury_blow_or_fall", "injury_push_off")

_SINGLE_URGENT = ("cannot_bear_weight", "knee_misshapen", "severe_pain",
                  "bluish_discoloration", "sudden_calf_swelling", "leg_swelling_one_side")
_SINGLE_SOON = ("duration_over_3_days", "lump_behind_knee", "affects_sleep_or_walking",
                "fever", "numbness_tingling")

MANDATED_RED_FLAGS: tuple[tuple[Condition, TriageLevel], ...] = (
    ((("shortness_of_breath", "chest_pain", "coughing_blood"),), _E),
    ((("fever",), ("hot_painful_knee",)), _E),
    ((("leg_swelling_one_side",), ("sudden_onset",), ("warmth", "redness", "tenderness")), _E),
    ((("sudden_calf_swelling",), ("known_bakers_cyst",)), _E),
    *((((name,),), _U) for name in _SINGLE_URGENT),
    *((((name,),), _S) for name in _SINGLE_SOON),
    ((("giving_way", "locking"), _INJURIES), _S),
    ((_CLOT_RISKS, ("calf_swelling", "leg_swelling_one_side", "sudden_calf_swelling")), _S),
)
"""(condition, minimum level) pairs every knowledge base must honour."""

MANDATED_CANT_MISS: dict[str, TriageLevel] = {"dvt": _U, "septic_arthritis": _U}
"""Causes that need a can't-miss threshold reaching at least this level."""


def minimal_presentations(condition: Condition) -> list[frozenset[str]]:
    """Every smallest set of ids reported present that satisfies ``condition``."""
    return [frozenset(choice) for choice in itertools.product(*condition)]


def check_safety_floor(kb: KnowledgeBase) -> list[Problem]:
    """Problems where ``kb`` would weaken the safety floor (empty when it honours it)."""
    problems: list[Problem] = []
    evidence = set(kb.evidence_ids)
    rules = TriageRules.from_tables(kb.red_flags, kb.thresholds, kb.triage_actions)
    for condition, minimum in MANDATED_RED_FLAGS:
        missing = sorted(condition_ids(condition) - evidence)
        if missing:
            problems.append(Problem(
                "findings.csv", None, "id",
                f"the safety rule [{format_condition(condition)}] needs the id(s) "
                f"{missing}; restore them from the shipped priors"))
            continue
        for present in minimal_presentations(condition):
            got = rules.red_flag_level(present)
            if got < minimum:
                problems.append(Problem(
                    "red_flags.csv", None, "level",
                    f"reporting {sorted(present)} must triage at least {minimum.value} "
                    f"(the safety floor), but the rules give {got.value}; add or restore "
                    f"a rule with condition [{format_condition(condition)}] at level "
                    f"{minimum.value}"))
                break
    for cause, minimum in MANDATED_CANT_MISS.items():
        levels = [t.level for t in rules.thresholds if t.cause == cause and t.kind == "cant_miss"]
        if cause not in kb.cause_ids or not levels or max(levels) < minimum:
            problems.append(Problem(
                "thresholds.csv", None, "cause",
                f"{cause!r} needs a 'cant_miss' threshold at level {minimum.value} or "
                "higher (the safety floor); restore it from the shipped priors"))
    return problems
