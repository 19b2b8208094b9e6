"""The safety floor: what no tuned knowledge base may weaken.

A knowledge base may add rules, raise levels and lower thresholds; it is refused on
load (and a :class:`~posterior_knee.Model` refuses to compile it) when it would

- triage any presentation of a floor rule lower than the floor's level. The floor holds
  the red flags the two source documents demand (``VOCABULARY.md``) and every emergency
  and urgent rule shipped in ``red_flags.csv``; a tuned copy may replace a rule by a
  stricter one that covers the same findings, since every smallest presentation of
  each floor rule is tried against the copy's rules;
- drop or raise a can't-miss threshold: each shipped (cause, level) must keep a
  ``cant_miss`` threshold at that level or higher, at a probability strictly between
  0 and 1 and not above the shipped value;
- empty or rewrite the action of the two highest levels (the emergency action must
  still send the person to emergency care, the urgent one must still say "today");
- stop asking a red-flag screening question first (``ask_first``);
- make a floor presentation impossible: a prior, leak or prevalence of exactly 0 or 1
  would turn a red flag into an error instead of a triage.

There is no switch to turn the floor off. Every refusal names the file, the row where
there is one, and the rule it would weaken.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..clinical._condition import (
    Condition,
    condition_ids,
    format_condition,
    holds,
    minimal_presentations,
    parse_condition,
)
from ..clinical.triage import TriageLevel, TriageRules
from ..errors import Problem

if TYPE_CHECKING:
    from .base import KnowledgeBase

__all__ = ["MANDATED_RED_FLAGS", "MANDATED_CANT_MISS", "SCREENING", "check_safety_floor",
           "minimal_presentations"]

_E, _U, _S = TriageLevel.EMERGENCY, TriageLevel.URGENT, TriageLevel.SOON
_CLOT_RISKS = ("previous_clot | hormone_therapy | pregnancy | postpartum | smoker | "
               "recent_surgery | long_travel")
_INJURIES = "injury_twist | injury_blow_or_fall | injury_push_off"
# the two injuries added to the vocabulary after the first rules: the knee forced
# backwards and a blow to the bent knee (the mechanisms of a knee dislocation)
_FORCED = "hyperextension_at_onset | fall_on_bent_knee"

# (rule it stands for, condition, minimum level). The first block is what the source
# documents demand; the second is every emergency and urgent rule shipped in
# red_flags.csv (tests/test_safety.py checks that the two stay in step) and the soon
# rules a guideline or the clinical review asks for.
_FLOOR: tuple[tuple[str, str, TriageLevel], ...] = (
    # -- demanded by the source documents (VOCABULARY.md)
    ("clot_in_lungs", "shortness_of_breath | chest_pain | coughing_blood", _E),
    ("joint_infection", "fever; hot_painful_knee", _E),
    ("sudden_swollen_leg", "leg_swelling_one_side; sudden_onset; warmth | redness | tenderness",
     _E),
    ("burst_cyst_or_clot", "sudden_calf_swelling; known_bakers_cyst", _E),
    *((rule, name, _U) for rule, name in (
        ("no_weight_bearing", "cannot_bear_weight"), ("deformed_knee", "knee_misshapen"),
        ("severe_pain_at_rest", "severe_pain"), ("bluish_leg", "bluish_discoloration"),
        ("sudden_big_calf_swelling", "sudden_calf_swelling"),
        ("one_leg_swollen", "leg_swelling_one_side"))),
    *((rule, name, _S) for rule, name in (
        ("pain_over_3_days", "duration_over_3_days | duration_over_2_weeks"),
        ("lump_needs_exam", "lump_behind_knee | painless_lump | pulsatile_lump"),
        ("disturbs_sleep_or_walking", "affects_sleep_or_walking"), ("any_fever", "fever"),
        ("numb_or_tingling_leg", "numbness_tingling"))),
    ("knee_locks_or_gives_way", f"giving_way | locking; {_INJURIES}", _S),
    ("clot_risk_with_swelling",
     f"{_CLOT_RISKS}; calf_swelling | leg_swelling_one_side | sudden_calf_swelling", _S),
    # -- every other shipped emergency and urgent rule
    ("joint_infection_unwell", "feeling_very_unwell; hot_painful_knee", _E),
    ("sudden_whole_leg_swelling", "sudden_leg_swelling", _E),
    ("limb_threat", "bluish_discoloration | cold_pale_foot; severe_pain | numbness_tingling | "
     "sudden_onset | leg_swelling_one_side | calf_swelling | sudden_leg_swelling", _E),
    ("injured_misshapen_knee", f"knee_misshapen; {_INJURIES} | {_FORCED}", _E),
    ("compartment_syndrome", f"{_INJURIES} | {_FORCED}; 2 of tense_calf | severe_pain | "
     "numbness_tingling | pain_out_of_proportion", _E),
    ("hot_swollen_stiff_knee", "hot_painful_knee; reduced_range", _E),
    ("fever_swollen_tender_knee", "fever; knee_swelling; tenderness | reduced_range | warmth",
     _E),
    ("sudden_severe_pain", "sudden_onset; severe_pain", _E),
    ("swollen_numb_calf", "sudden_onset; calf_swelling | tense_calf | leg_swelling_one_side | "
     "sudden_calf_swelling; numbness_tingling | pain_out_of_proportion", _E),
    ("sudden_leg_swelling_or_warmth", "sudden_onset; calf_swelling | warmth", _U),
    ("hot_swollen_knee", "hot_painful_knee", _U),
    ("fever_with_swollen_knee", "fever; knee_swelling | warmth | redness", _U),
    ("fever_and_unwell", "fever; feeling_very_unwell", _U),
    ("clot_risk_with_swelling",
     "previous_clot | recent_surgery | immobilisation | active_cancer | pregnancy | "
     "postpartum | hormone_therapy | long_travel; calf_swelling | leg_swelling_one_side | "
     "sudden_calf_swelling", _U),
    ("clot_risk_with_calf_pain",
     "previous_clot | recent_surgery | immobilisation | active_cancer | pregnancy | "
     "postpartum; calf_pain | tenderness", _U),
    ("wells_dvt_likely", "calf_pain | tenderness | calf_swelling | leg_swelling_one_side; "
     "2 of active_cancer | immobilisation | recent_surgery | tenderness | "
     "leg_swelling_one_side | calf_swelling | previous_clot", _U),
    ("cold_or_pale_foot", "cold_pale_foot", _U),
    ("tense_calf_today", "tense_calf", _U),
    ("fall_over_50_xray", "injury_blow_or_fall | fall_on_bent_knee; age_over_50", _U),
    ("rapid_swelling_after_injury", "swelling_within_hours", _U),
    ("numb_after_injury", f"numbness_tingling; {_INJURIES} | {_FORCED}", _U),
    ("locked_knee_after_injury", f"locking; reduced_range; {_INJURIES} | {_FORCED} | "
     "sudden_onset", _U),
    ("injured_swollen_stiff_knee", f"{_INJURIES} | {_FORCED} | sudden_onset; knee_swelling; "
     "reduced_range", _U),
    ("badly_swollen_knee", "knee_badly_swollen", _U),
    ("warm_swollen_knee", "knee_swelling; warmth | redness", _U),
    ("weak_pulse_sudden_or_rest_pain", "weak_foot_pulse; sudden_onset | severe_pain | "
     "pain_at_rest", _U),
    ("foot_drop_today", "foot_drop", _U),
    ("unexpected_pain_today", f"pain_out_of_proportion; {_INJURIES} | {_FORCED} | "
     "calf_swelling | tense_calf | leg_swelling_one_side | sudden_calf_swelling", _U),
    ("weak_foot_pulse_check", "weak_foot_pulse", _S),
    ("unexpected_pain", "pain_out_of_proportion", _S),
    ("weak_push_off", "weakness_tiptoe", _S),
    ("growing_lump", "lump_growing", _S),
    ("weight_loss_or_sweats", "weight_loss_night_sweats", _S),
    ("several_swollen_joints", "other_joints_affected; knee_swelling | reduced_range", _S),
    ("cauda_equina", "saddle_numbness_or_bladder", _E),
)


def _parsed(text: str) -> Condition:
    condition, error = parse_condition(text)
    if error:  # pragma: no cover - a typo in the table above, caught by any test run
        raise ValueError(error)
    return condition


MANDATED_RED_FLAGS: tuple[tuple[Condition, TriageLevel], ...] = tuple(
    (_parsed(text), level) for _, text, level in _FLOOR)
"""(condition, minimum level) pairs every knowledge base must honour."""

FLOOR_RULES: tuple[tuple[str, Condition, TriageLevel], ...] = tuple(
    (rule, _parsed(text), level) for rule, text, level in _FLOOR)
"""(shipped rule id, condition, minimum level): the floor, named after the rules it keeps."""

_PRESENTATIONS: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(minimal_presentations(condition)) for _, condition, _ in FLOOR_RULES)
"""The smallest presentations of each floor rule (in FLOOR_RULES order), found once: the
floor is checked on every load and every model build."""

MANDATED_CANT_MISS: dict[str, tuple[tuple[TriageLevel, float], ...]] = {
    "dvt": ((_S, 0.03), (_U, 0.05), (_E, 0.4)),
    "septic_arthritis": ((_S, 0.01), (_U, 0.03), (_E, 0.15)),
    "bakers_cyst_rupture": ((_S, 0.01), (_U, 0.02)),
    "popliteal_artery_entrapment": ((_S, 0.1),),
    "tumour": ((_S, 0.02),),
    "fracture": ((_U, 0.2),),
    "compartment_syndrome": ((_U, 0.01), (_E, 0.03)),
    "acute_limb_ischaemia": ((_U, 0.02), (_E, 0.05)),
    "knee_dislocation": ((_E, 0.03),),
    "popliteal_artery_aneurysm": ((_S, 0.02), (_U, 0.1)),
    "cellulitis": ((_S, 0.1), (_U, 0.3)),
    "superficial_thrombophlebitis": ((_S, 0.05),),
    "infected_bakers_cyst": ((_S, 0.01), (_U, 0.03), (_E, 0.15)),
}
"""Cause -> (level, highest allowed probability): a tuned copy needs a ``cant_miss``
threshold reaching at least that level at or below that probability (the shipped
values of thresholds.csv)."""

SCREENING: frozenset[str] = frozenset({
    "leg_swelling_one_side", "sudden_calf_swelling", "cannot_bear_weight", "knee_misshapen",
    "bluish_discoloration", "cold_pale_foot", "severe_pain", "hot_painful_knee", "fever",
    "shortness_of_breath", "chest_pain", "coughing_blood", "saddle_numbness_or_bladder",
})
"""Red-flag questions every interview asks first (``ask_first`` in findings.csv)."""

_ACTION_WORDS = {TriageLevel.EMERGENCY: ("emergency",), TriageLevel.URGENT: ("today",)}
"""Words the action of each of the two highest levels must keep, so that it still says
where to go (emergency care) or when (today)."""


def check_safety_floor(kb: KnowledgeBase) -> list[Problem]:
    """Problems where ``kb`` would weaken the safety floor (empty when it honours it)."""
    problems: list[Problem] = []
    evidence = set(kb.evidence_ids)
    rules = TriageRules.from_tables(kb.red_flags, kb.thresholds, kb.triage_actions)
    problems += _red_flags(rules, evidence)
    problems += _thresholds(kb, rules)
    problems += _actions(kb)
    problems += _screening(kb)
    problems += _possible(kb)
    return problems


def _red_flags(rules: TriageRules, evidence: set[str]) -> list[Problem]:
    problems = []
    ranked = [(r.level.rank, r.condition) for r in rules.red_flags]  # ranks compare fast
    for (rule, condition, minimum), presentations in zip(FLOOR_RULES, _PRESENTATIONS):
        ids = condition_ids(condition)
        missing = sorted(ids - evidence)
        if missing:
            problems.append(Problem(
                "findings.csv", None, "id",
                f"the safety rule '{rule}' [{format_condition(condition)}] needs the id(s) "
                f"{missing}; restore them from the shipped priors"))
            continue
        # a presentation triages at least `minimum` when one rule at that level or above
        # fires; only when none does are all the rules weighed, for the message. A
        # presentation holds only ids of `condition`, so a rule with a term that these
        # ids cannot satisfy cannot fire on any of them
        strong = [rule_condition for rank, rule_condition in ranked if rank >= minimum.rank
                  and all(len(ids.intersection(term.ids)) >= term.at_least
                          for term in rule_condition)]
        for present in presentations:
            if any(holds(c, present) for c in strong):
                continue
            got = rules.red_flag_level(present)
            if got < minimum:
                problems.append(Problem(
                    "red_flags.csv", None, "level",
                    f"reporting {sorted(present)} must triage at least {minimum.value} "
                    f"(the safety floor, rule '{rule}'), but the rules give {got.value}; "
                    f"add or restore a rule with condition [{format_condition(condition)}] "
                    f"at level {minimum.value}"))
                break
    return problems


def _thresholds(kb: KnowledgeBase, rules: TriageRules) -> list[Problem]:
    problems = []
    lines = {(row.cause, row.kind, row.level): int(k) + 2
             for k, row in zip(kb.thresholds.index, kb.thresholds.itertuples(index=False))}
    for limit in rules.thresholds:
        if limit.kind == "cant_miss" and not 0.0 < limit.probability < 1.0:
            problems.append(Problem(
                "thresholds.csv", lines.get((limit.cause, limit.kind, limit.level.value)),
                "probability",
                f"the can't-miss threshold of {limit.cause!r} at {limit.level.value} is "
                f"{limit.probability:g}; it must lie strictly between 0 and 1 (the safety "
                "floor)"))
    for cause, floor in MANDATED_CANT_MISS.items():
        if cause not in kb.cause_ids:
            problems.append(Problem(
                "causes.csv", None, "id",
                f"{cause!r} is a can't-miss cause of the safety floor; restore it from "
                "the shipped priors"))
            continue
        mine = [t for t in rules.thresholds if t.cause == cause and t.kind == "cant_miss"]
        for level, highest in floor:
            if not any(t.level >= level and t.probability <= highest for t in mine):
                problems.append(Problem(
                    "thresholds.csv", None, "probability",
                    f"{cause!r} needs a 'cant_miss' threshold at level {level.value} or "
                    f"higher at a probability of at most {highest:g} (the safety floor: "
                    "thresholds may be lowered, never raised or removed); restore the "
                    "shipped row"))
    return problems


def _actions(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    actions = {row.level: (int(k) + 2, row.action) for k, row in
               zip(kb.triage_actions.index, kb.triage_actions.itertuples(index=False))}
    for level, words in _ACTION_WORDS.items():
        line, text = actions.get(level.value, (None, ""))
        if not _says(text, words):
            problems.append(Problem(
                "triage_actions.csv", line, "action",
                f"the {level.value} action must say {' or '.join(map(repr, words))} (the "
                f"safety floor), got {text!r}; restore the shipped text"))
    if "action" in kb.thresholds:
        for k, row in zip(kb.thresholds.index, kb.thresholds.itertuples(index=False)):
            level = TriageLevel(row.level)
            text = row.action
            if level in _ACTION_WORDS and isinstance(text, str) and text.strip() \
                    and not _says(text, _ACTION_WORDS[level]):
                problems.append(Problem(
                    "thresholds.csv", int(k) + 2, "action",
                    f"the action of the {row.cause} threshold at {level.value} must say "
                    f"{' or '.join(map(repr, _ACTION_WORDS[level]))} (the safety floor), "
                    f"got {text!r}; leave it empty to use the level's own action"))
    return problems


def _says(text: object, words: tuple[str, ...]) -> bool:
    return isinstance(text, str) and any(word in text.lower() for word in words)


def _screening(kb: KnowledgeBase) -> list[Problem]:
    findings = kb.findings
    flags = findings["ask_first"] if "ask_first" in findings else None
    problems = []
    for k, row in zip(findings.index, findings.itertuples(index=False)):
        if row.id in SCREENING and (flags is None or flags.loc[k] != "yes"):
            problems.append(Problem(
                "findings.csv", int(k) + 2, "ask_first",
                f"{row.id!r} is a red-flag screening question; its ask_first must be "
                "'yes' (the safety floor)"))
    return problems


def _possible(kb: KnowledgeBase) -> list[Problem]:
    """Priors and prevalences, and the leaks of the findings the floor names, must lie
    strictly between 0 and 1: with a leak above 0 every floor finding can be reported
    present whatever the causes' numbers, so every floor presentation is possible.
    (Other findings may have a leak of 0: a sign no unmodelled cause produces.)"""
    floor_ids = set().union(*(condition_ids(condition) for _, condition, _ in FLOOR_RULES))
    problems = []
    for table, column, only in (("causes", "prior", None), ("findings", "leak", floor_ids),
                                ("risk_factors", "prevalence", None)):
        frame = getattr(kb, table)
        for k, row_id, value in zip(frame.index, frame["id"], frame[column]):
            if (only is None or row_id in only) and not 0.0 < float(value) < 1.0:
                problems.append(Problem(
                    f"{table}.csv", int(k) + 2, column,
                    f"{row_id!r} has {column} {float(value):g}; it must lie strictly "
                    "between 0 and 1, or red-flag presentations could become impossible "
                    "evidence instead of a triage (the safety floor)"))
    return problems
