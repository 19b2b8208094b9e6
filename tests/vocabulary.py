"""The ids the design contract requires (shared/VOCABULARY.md); other code relies on them."""

CAUSES = {
    "calf_strain": "strain",
    "hamstring_strain": "strain",
    "patellar_tendinopathy": "strain",
    "leg_cramps": "other",
    "bakers_cyst": "bakers_cyst",
    "bakers_cyst_rupture": "bakers_cyst",
    "osteoarthritis": "arthritis",
    "inflammatory_arthritis": "arthritis",
    "chondromalacia": "arthritis",
    "meniscus_tear": "meniscus_ligament",
    "acl_injury": "meniscus_ligament",
    "pcl_injury": "meniscus_ligament",
    "hyperextension_injury": "meniscus_ligament",
    "dvt": "dvt",
    "popliteal_artery_entrapment": "entrapment",
    "nerve_entrapment": "entrapment",
    "septic_arthritis": "infection",
    "tumour": "other",
}

FINDINGS = """
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
""".split()

RISK_FACTORS = """
age_under_30 age_over_50 plays_sport muscular_calves recent_surgery long_travel
immobilisation pregnancy hormone_therapy previous_clot smoker active_cancer
known_arthritis known_bakers_cyst joint_infection_risk
""".split()
