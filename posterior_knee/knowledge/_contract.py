"""The ids the design contract requires: other code, examples and outside evaluation
cases rely on them, so a knowledge base may add ids but never rename or remove these.

Kept here as data so that the library can score its vignettes the way an outside scorer
sees them: with only these ids (:func:`posterior_knee.evaluate` ``vocabulary=
"required"``). ``tests/vocabulary.py`` keeps an independent copy of the same lists.
"""

from __future__ import annotations

__all__ = ["REQUIRED_CAUSES", "REQUIRED_FINDINGS", "REQUIRED_RISK_FACTORS",
           "REQUIRED_EVIDENCE"]

REQUIRED_CAUSES: frozenset[str] = frozenset("""
calf_strain hamstring_strain patellar_tendinopathy leg_cramps bakers_cyst
bakers_cyst_rupture osteoarthritis inflammatory_arthritis chondromalacia meniscus_tear
acl_injury pcl_injury hyperextension_injury dvt popliteal_artery_entrapment
nerve_entrapment septic_arthritis tumour
""".split())

REQUIRED_FINDINGS: frozenset[str] = frozenset("""
sudden_onset injury_twist injury_blow_or_fall injury_push_off popping_at_injury
swelling_within_hours overuse slowly_worsening duration_over_3_days duration_over_2_weeks
pain_with_activity claudication pain_after_sitting pain_on_stairs stiffness_after_rest
night_pain muscle_spasm pain_standing_walking affects_sleep_or_walking
calf_pain pain_on_push_off tenderness lump_behind_knee tightness_behind_knee reduced_range
knee_swelling calf_swelling leg_swelling_one_side sudden_calf_swelling warmth redness
bruising crepitus locking giving_way weakness_tiptoe cannot_bear_weight knee_misshapen
numbness_tingling bluish_discoloration heaviness_lower_leg pain_behind_kneecap
pain_below_kneecap severe_pain hot_painful_knee scaly_skin_rash other_joints_affected
fever feeling_very_unwell shortness_of_breath chest_pain coughing_blood
""".split())

REQUIRED_RISK_FACTORS: frozenset[str] = frozenset("""
age_under_30 age_over_50 plays_sport muscular_calves recent_surgery long_travel
immobilisation pregnancy hormone_therapy previous_clot smoker active_cancer
known_arthritis known_bakers_cyst joint_infection_risk
""".split())

REQUIRED_EVIDENCE: frozenset[str] = REQUIRED_FINDINGS | REQUIRED_RISK_FACTORS
"""The finding and risk-factor ids a case may state in the required vocabulary."""
