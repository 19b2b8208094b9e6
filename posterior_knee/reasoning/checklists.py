"""Grouped questions: one question that lists several related findings.

"Which of these apply?" asks about several findings at once, each answered yes, no or
don't know, and counts as one question. People describe a complaint this way (where it
hurts, how it started), and clinicians screen for red flags this way. The interview
asks a checklist only for the items still worth asking (see
:class:`~posterior_knee.interview.Interview`).

The screening checklist is built from the knowledge base: every ``ask_first`` id, so a
tuned copy that flags another finding for screening screens for it too. The others
group the shipped vocabulary by topic; an id of a tuned copy that no checklist names
is asked on its own, and a checklist keeps only the ids the knowledge base defines.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["Checklist", "checklists", "implied_by", "IMPLIES", "SCREEN", "TOPICS"]

SCREEN = "red_flag_screen"
"""The id of the screening checklist (every ``ask_first`` id of the knowledge base)."""

_SCREEN_TEXT = "Do you have any of these right now?"

TOPICS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("where_it_hurts", "Where do you feel the pain?",
     ("pain_hollow_of_knee", "pain_inner_side", "pain_outer_side", "pain_front_of_knee",
      "pain_behind_kneecap", "pain_below_kneecap", "calf_pain", "thigh_pain", "both_legs",
      "back_pain_radiating")),
    ("how_it_started", "How did the pain start?",
     ("sudden_onset", "injury_twist", "injury_blow_or_fall", "injury_push_off",
      "hyperextension_at_onset", "fall_on_bent_knee", "popping_at_injury",
      "swelling_within_hours", "overuse")),
    ("how_long", "How long have you had it?",
     ("duration_over_3_days", "duration_over_2_weeks", "slowly_worsening")),
    ("when_it_hurts", "When does it hurt?",
     ("pain_with_activity", "pain_standing_walking", "pain_on_stairs",
      "pain_after_sitting", "stiffness_after_rest", "night_pain", "pain_at_rest",
      "affects_sleep_or_walking", "claudication", "pain_out_of_proportion")),
    ("how_the_knee_moves", "What does the knee do when you move it?",
     ("reduced_range", "pain_on_bending", "pain_on_straightening",
      "tightness_behind_knee", "locking", "giving_way", "anterior_laxity",
      "posterior_laxity", "crepitus")),
    ("swelling", "Is anything swollen?",
     ("knee_swelling", "knee_badly_swollen", "calf_swelling", "foot_ankle_swelling",
      "sudden_leg_swelling", "tense_calf")),
    ("what_you_can_feel", "What can you see or feel on the leg?",
     ("tenderness", "lump_behind_knee", "painless_lump", "pulsatile_lump", "lump_growing",
      "palpable_gap", "tender_vein_cord", "varicose_veins")),
    ("skin", "How does the skin look?",
     ("warmth", "redness", "bruising", "bruising_below_ankle", "scaly_skin_rash")),
    ("calf_and_foot", "How do the calf and foot feel and work?",
     ("pain_on_push_off", "weakness_tiptoe", "muscle_spasm", "heaviness_lower_leg",
      "numbness_tingling", "foot_drop", "weak_foot_pulse")),
    ("whole_body", "How are you in yourself?",
     ("feeling_very_unwell", "weight_loss_night_sweats", "other_joints_affected",
      "recent_gut_or_genital_infection")),
    ("clot_risks", "Do any of these apply to you?",
     ("recent_surgery", "immobilisation", "long_travel", "previous_clot",
      "active_cancer", "pregnancy", "postpartum", "hormone_therapy",
      "progestogen_only_contraception")),
    ("health_background", "Has a doctor told you of any of these?",
     ("known_arthritis", "known_bakers_cyst", "joint_infection_risk", "cramp_risk")),
    ("lifestyle", "Do any of these describe you?",
     ("plays_sport", "muscular_calves", "smoker", "overweight", "gout_risk")),
)
"""The shipped topics: (id, question, item ids). Screening ids are left out of them
(they are in the screen)."""


IMPLIES: Mapping[str, tuple[str, ...]] = {
    "duration_over_2_weeks": ("duration_over_3_days",),
    "slowly_worsening": ("duration_over_2_weeks",),
    "painless_lump": ("lump_behind_knee",),
    "pulsatile_lump": ("lump_behind_knee",),
    "lump_growing": ("lump_behind_knee",),
    "sudden_calf_swelling": ("calf_swelling",),
    "hot_painful_knee": ("knee_swelling", "warmth"),
    "swelling_within_hours": ("knee_swelling",),
    "knee_badly_swollen": ("knee_swelling",),
    "severe_pain": ("pain_at_rest",),
    "claudication": ("pain_with_activity", "calf_pain"),
}
"""A "yes" that answers another question "yes" too, by the questions' own words: pain for
more than 2 weeks has lasted more than 3 days, pain getting worse over months more than
2 weeks; a lump that does not hurt, pulses or grows "behind the knee" is a lump behind
the knee; a calf that became "much more swollen" is a swollen calf; a "hot, swollen"
knee is a swollen, warm knee, and a knee that swelled within hours of an injury, or a
badly swollen one, a swollen one; pain "severe, even when you are resting" is pain at
rest; a calf that aches during exercise hurts with activity, in the calf. A checklist's
items left unticked read "no", so a person who ticks only "pain for more than 2 weeks"
would otherwise report the contradiction "not more than 3 days". No vignette
contradicts a pair, and nearly all that state the first id state the second, except
severe pain: case reports' "severe pain" is mostly mapped without pain at rest."""


def implied_by(answers: Mapping[str, bool | None], known: Collection[str]) -> dict[str, bool]:
    """The ids among ``known`` that the "yes" answers of ``answers`` also answer "yes"
    (:data:`IMPLIES`, followed through).

    >>> implied_by({"slowly_worsening": True, "fever": False}, {"duration_over_3_days",
    ...            "duration_over_2_weeks", "slowly_worsening", "fever"})
    {'duration_over_2_weeks': True, 'duration_over_3_days': True}
    """
    reached: list[str] = []  # followed through ids outside ``known`` too
    todo = [name for name, value in answers.items() if value is True]
    while todo:
        for other in IMPLIES.get(todo.pop(), ()):
            if other not in reached:
                reached.append(other)
                todo.append(other)
    return {name: True for name in reached if name in known}


@dataclass(frozen=True)
class Checklist:
    """One grouped question: its id, its question and the evidence ids it lists."""

    id: str
    question: str
    items: tuple[str, ...]
    ask_first: bool = False  # the red-flag screen


def checklists(model: Model) -> tuple[Checklist, ...]:
    """The checklists of ``model``: the red-flag screen first, then the topics.

    Each evidence id is in at most one checklist; a topic keeps only the ids the
    knowledge base defines that are not screening ids, and is dropped when fewer than
    two are left (its id is then asked on its own). A topic whose id is also an
    evidence id of the knowledge base is dropped too, so ids never clash.
    """
    valid = list(model.kb.evidence_ids)
    known = set(valid)
    screen = tuple(name for name in valid if name in model.ask_first)
    out = []
    if len(screen) >= 2 and SCREEN not in known:
        out.append(Checklist(SCREEN, _SCREEN_TEXT, screen, ask_first=True))
    taken = set(screen) if out else set()
    for name, question, items in TOPICS:
        kept = tuple(i for i in items if i in known and i not in model.ask_first
                     and i not in taken)
        if len(kept) >= 2 and name not in known:
            out.append(Checklist(name, question, kept))
            taken |= set(kept)
    return tuple(out)
