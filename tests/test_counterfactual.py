"""Counterfactual scores (expected disablement and sufficiency) against brute force on
twin networks: every exogenous activation enumerated, the factual and counterfactual
findings computed from the same activations."""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee.reasoning.counterfactual import counterfactual_scores, scores_from_joint

from .strategies import evidence


def _network(draw, k_max=3, f_max=3):
    k = draw(st.integers(1, k_max))
    f = draw(st.integers(1, f_max))
    prior = np.array(draw(st.lists(st.floats(0.01, 1.0), min_size=2 ** k, max_size=2 ** k)))
    prior /= prior.sum()  # any joint prior over the causes (links, risk factors)
    strength = np.array([[draw(st.sampled_from([0.0, 0.0, 0.3, 0.7, 0.95, 1.0]))
                          for _ in range(f)] for _ in range(k)])
    leak = np.array([draw(st.sampled_from([0.01, 0.1, 0.5])) for _ in range(f)])
    evidence = {}
    for j in range(f):
        value = draw(st.sampled_from([True, False, None]))
        if value is not None:
            evidence[f"f{j}"] = value
    return prior, strength, leak, evidence


networks = st.composite(_network)


def _configs(k):
    return np.array(list(itertools.product((0, 1), repeat=k)), dtype=bool)


def brute_force(prior, strength, leak, evidence):
    """E[# present findings switched off by do(k=0)] and E[# kept by k alone], by
    enumerating causes, leak activations and link activations."""
    k, f = strength.shape
    links = [(i, j) for i in range(k) for j in range(f) if strength[i, j] > 0]
    dis = np.zeros(k)
    suf = np.zeros(k)
    outside = 0.0
    total = 0.0
    for d_index, d in enumerate(_configs(k)):
        for u in itertools.product((0, 1), repeat=f):
            for a in itertools.product((0, 1), repeat=len(links)):
                w = prior[d_index]
                w *= np.prod([leak[j] if u[j] else 1 - leak[j] for j in range(f)])
                w *= np.prod([strength[i, j] if a[n] else 1 - strength[i, j]
                              for n, (i, j) in enumerate(links)])
                if w == 0:
                    continue
                fired = {(i, j) for n, (i, j) in enumerate(links) if a[n] and d[i]}
                factual = [bool(u[j]) or any((i, j) in fired for i in range(k))
                           for j in range(f)]
                if any(factual[int(name[1:])] != value for name, value in evidence.items()):
                    continue
                total += w
                present = [int(n[1:]) for n, v in evidence.items() if v]
                for c in range(k):
                    off = sum(not (u[j] or any((i, j) in fired for i in range(k) if i != c))
                              for j in present)
                    alone = sum((c, j) in fired for j in present)
                    dis[c] += w * off
                    suf[c] += w * alone
                outside += w * sum(u[j] and not any((i, j) in fired for i in range(k))
                                   for j in present)
    return (dis / total, suf / total, outside / total) if total > 0 else (dis, suf, 0.0)


def array_joint(prior, strength, leak):
    k, _ = strength.shape
    configs = _configs(k)

    def joint(evidence, drop=None):
        s = strength.copy()
        if drop is not None:
            s[drop[0], int(drop[1][1:])] = 0.0
        w = prior.copy()
        for name, value in evidence.items():
            j = int(name[1:])
            off = (1 - leak[j]) * np.prod(np.where(configs, 1 - s[:, j], 1.0), axis=1)
            w = w * (1 - off if value else off)
        return (w[:, None] * configs).sum(axis=0), float(w.sum())

    return joint


@settings(max_examples=60)
@given(data=st.data())
def test_closed_form_matches_twin_network_brute_force(data):
    prior, strength, leak, evidence = data.draw(networks())
    joint = array_joint(prior, strength, leak)
    present = [name for name, value in evidence.items() if value]
    columns = {name: strength[:, int(name[1:])] for name in present}

    def joint_many(variants):
        answers = [joint(v) for v in variants]
        return np.array([a[0] for a in answers]), np.array([a[1] for a in answers])

    leaks = {name: leak[int(name[1:])] for name in present}
    got = scores_from_joint(joint_many, evidence, present, columns, joint, leaks)
    want_dis, want_suf, want_outside = brute_force(prior, strength, leak, evidence)
    np.testing.assert_allclose(got.disablement, want_dis, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.sufficiency, want_suf, rtol=0, atol=1e-9)
    assert got.outside == pytest.approx(want_outside, abs=1e-9)


def test_scores_are_counts_of_present_findings(model):
    case = model.evidence({"lump_behind_knee": True, "sudden_calf_swelling": True,
                           "calf_pain": True, "fever": False, "age_over_50": True})
    scores = counterfactual_scores(model, case)
    for values in (scores.disablement, scores.sufficiency, np.array([scores.outside])):
        assert ((values >= -1e-12) & (values <= 3 + 1e-9)).all()
    nothing = counterfactual_scores(model, model.evidence({"fever": False}))
    assert (nothing.disablement == 0).all() and nothing.outside_share == 0.0


def test_engine_batch_scores_match_one_query_per_variant(model):
    """The model's scores (all 2m + 1 variants in one engine batch) equal the same
    formula fed by one independent query per variant."""
    case = model.evidence({"calf_swelling": True, "warmth": True, "recent_surgery": True,
                           "injury_push_off": False})
    fast = counterfactual_scores(model, case)

    class OneQueryAtATime:
        def __init__(self, model):
            self.structure, self.kb, self.engine = model.structure, model.kb, model.engine
            self._model = model

        def posterior(self, evidence):
            return self._model.posterior(evidence)

    slow = counterfactual_scores(OneQueryAtATime(model), case)
    np.testing.assert_allclose(fast.disablement, slow.disablement, rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast.sufficiency, slow.sufficiency, rtol=0, atol=1e-9)
    assert fast.outside == pytest.approx(slow.outside, abs=1e-9)


@pytest.mark.parametrize("rank_by", ["probability", "disablement", "sufficiency"])
def test_rank_by_orders_the_ranking(model, rank_by):
    dx = model.diagnose({"lump_behind_knee": True, "sudden_calf_swelling": True,
                         "known_arthritis": True, "age_over_50": True}, rank_by=rank_by)
    column = dx.ranking[rank_by].to_numpy()
    assert (np.diff(np.round(column, 12)) <= 0).all()
    assert dx.rank_by == rank_by
    assert {"disablement", "sufficiency"} <= set(dx.ranking.columns)


def test_a_background_condition_explains_nothing_it_does_not_produce(model):
    """Osteoarthritis is probable at 70 with known arthritis, but it does not produce a
    sudden calf swelling: it explains less of that presentation than a burst cyst."""
    dx = model.diagnose({"sudden_calf_swelling": True, "known_arthritis": True,
                         "age_over_50": True}, rank_by="disablement")
    ranking = dx.ranking.set_index("cause")
    assert ranking.loc["osteoarthritis", "probability"] > 0.5
    assert ranking.loc["bakers_cyst_rupture", "disablement"] > \
        ranking.loc["osteoarthritis", "disablement"]


@settings(max_examples=40, deadline=None)
@given(data=evidence(pk.load_knowledge_base(), max_size=10))
def test_the_differential_lists_the_likely_causes_then_those_not_to_miss(model, data):
    """rank_by="differential": the disablement ranking's first two rows, then every
    cause at or above its lowest can't-miss threshold (most pressing first), then the
    others in disablement order; the flag agrees with thresholds.csv."""
    try:
        base = model.diagnose(data, rank_by="disablement").ranking
    except pk.errors.ImpossibleEvidenceError:
        return
    dx = model.diagnose(data, rank_by="differential")
    ranking = dx.ranking
    assert dx.rank_by == "differential"
    pd.testing.assert_frame_equal(
        ranking.sort_values("cause").reset_index(drop=True),
        base.sort_values("cause").reset_index(drop=True))  # the same rows, reordered
    thresholds = model.kb.thresholds
    lowest = thresholds[thresholds["kind"] == "cant_miss"].groupby("cause")["probability"].min()
    flag = [c in lowest.index and p >= lowest[c]
            for c, p in zip(ranking["cause"], ranking["probability"])]
    assert ranking["must_not_miss"].tolist() == flag
    lead = list(base["cause"][:2])
    assert list(ranking["cause"][:2]) == lead
    rest = ranking.iloc[2:]
    urgent = rest[rest["must_not_miss"]]
    assert list(rest["cause"][:len(urgent)]) == list(urgent["cause"])  # they come first
    pressure = urgent["probability"].to_numpy() / [lowest[c] for c in urgent["cause"]]
    assert (np.diff(pressure) <= 0).all()
    others = [c for c in base["cause"] if c not in lead and c not in set(urgent["cause"])]
    assert list(rest["cause"][len(urgent):]) == others
    assert dx.triage == model.diagnose(data, rank_by="disablement").triage


def test_the_differential_names_a_clot_the_triage_names(model):
    """Calf pain in pregnancy: muscle causes explain it best, but P(dvt) has passed its
    can't-miss threshold, so the clot is third, marked, as the triage's reason says."""
    dx = model.diagnose({"calf_pain": True, "pregnancy": True}, rank_by="differential")
    assert "dvt" not in list(model.diagnose(dx.findings, rank_by="disablement")
                             .ranking["cause"][:3])
    assert dx.ranking["cause"].iloc[2] == "dvt"
    assert dx.ranking["must_not_miss"].iloc[2]
    assert any("dvt" in reason for reason in dx.triage.reasons)
    assert "!Blood clot" in str(dx)
    assert "pk-must-not-miss" in dx._repr_html_()


def test_rank_by_is_checked(model):
    with pytest.raises(pk.errors.ParameterError, match="rank_by"):
        model.diagnose({}, rank_by="likelihood")


def test_none_of_these_fits_is_reported_with_plain_advice(model):
    """Findings few modelled causes produce together are mostly 'from elsewhere'."""
    # (fever and numbness alone are now explained by cellulitis and referred pain)
    odd = model.diagnose({"coughing_blood": True, "numbness_tingling": True,
                          "scaly_skin_rash": True})
    assert odd.unexplained >= 0.5 and odd.none_fits
    assert "fits none of the causes" in odd.summary()
    assert "pk-none-fits-advice" in odd._repr_html_()
    cyst = model.diagnose({"lump_behind_knee": True, "tightness_behind_knee": True})
    assert cyst.unexplained < 0.2 and cyst.none_fits is None
    assert "None of these:" in cyst.summary() and "pk-none-fits-advice" not in cyst._repr_html_()
    assert model.diagnose({}).unexplained == 0.0


def test_batches_of_different_sizes_on_one_plan_agree_with_direct_queries(model):
    """Regression: a plan's cache of case-independent results must not keep results
    that per-case end weights made batch-dependent (counterfactual scores run 2m + 1
    variants, explanations m + 1, on the same plan)."""
    case = model.evidence({"fever": True, "numbness_tingling": True, "scaly_skin_rash": True})
    model.diagnose(case)
    table = model.diagnose(case).explain("cellulitis" if "cellulitis" in
                                         model.structure.cause_ids else "dvt")
    i = list(model.structure.cause_ids).index(table.attrs["cause"])
    for row in table[table["kind"] == "finding"].itertuples():
        rest = {k: v for k, v in case.items() if k != row.evidence}
        direct = float(model.posterior(rest).causes[i])
        assert row.probability_without == pytest.approx(direct, abs=1e-9)


# -- the scores from one elimination pass (silent sums) ----------------------------------


def _without_link(structure, finding: str, cause: str):
    """``structure`` with the link cause -> finding removed."""
    import dataclasses

    findings = []
    for node in structure.findings:
        if node.name == finding:
            keep = [k for k, p in enumerate(node.parents) if p != cause]
            node = dataclasses.replace(node, parents=tuple(node.parents[k] for k in keep),
                                       strengths=np.asarray(node.strengths)[keep])
        findings.append(node)
    return dataclasses.replace(structure, findings=tuple(findings))


def _tiny_case(data, structure):
    ids = [f.name for f in structure.findings] + ["young", "old", "r1", "r2"]
    case = data.draw(st.dictionaries(st.sampled_from(ids), st.booleans(), max_size=12))
    if case.get("young") and case.get("old"):
        del case["old"]
    return case


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), certain=st.booleans(), data=st.data())
def test_silent_sums_match_brute_force_on_random_structures(seed, certain, data):
    """Each sum of the single elimination pass against the sum over every node: P(e),
    P(k, e), P(e with f absent), and the silent sums (f absent on the network without
    the link k -> f), links of strength exactly 1 included."""
    from posterior_knee.inference import _elimination
    from posterior_knee.inference._cases import Cases
    from posterior_knee.inference._elimination import EliminationEngine, brute_force

    from .networks import tiny_structure

    structure = tiny_structure(seed, certain)
    case = _tiny_case(data, structure)
    total, causes, _ = brute_force(structure, case)
    if total == 0.0:
        return
    engine = EliminationEngine(structure)
    cases = Cases.from_parts([structure.split_evidence(case)], structure)
    # the plan flattened (_circuit, every plan here is cheap), and op by op
    flattened = engine.silent_sums(cases)
    cost, _elimination.CIRCUIT_COST = _elimination.CIRCUIT_COST, 0.0
    try:
        op_by_op = engine.silent_sums(cases)
    finally:
        _elimination.CIRCUIT_COST = cost
    for sums in (flattened, op_by_op):
        assert sums.total[0] == pytest.approx(total, rel=1e-12)
        np.testing.assert_allclose(sums.causes[0], causes, rtol=1e-11, atol=0)
        present = [structure.findings[j].name for j in sums.present]
        assert sorted(present) == sorted(n for n, v in case.items() if v and n.startswith("f"))
        index = {c: i for i, c in enumerate(structure.cause_ids)}
        for t, name in enumerate(present):
            absent = {**case, name: False}
            assert sums.absent[0, t] == pytest.approx(brute_force(structure, absent)[0],
                                                      rel=1e-11, abs=0)
            node = next(f for f in structure.findings if f.name == name)
            expected = np.zeros(len(index))
            for cause in node.parents:
                expected[index[cause]] = brute_force(_without_link(structure, name, cause),
                                                     absent)[1][index[cause]]
            np.testing.assert_allclose(sums.silent[0, t], expected, rtol=1e-11,
                                       atol=1e-300)


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32 - 1), certain=st.booleans(), data=st.data())
def test_scores_from_silent_sums_equal_the_closed_form_on_random_structures(seed, certain,
                                                                           data):
    """The scores read from the silent sums equal the closed form fed by brute-force
    joints (itself checked against the twin network above), strength-1 links too."""
    from posterior_knee.inference._cases import Cases
    from posterior_knee.inference._elimination import EliminationEngine, brute_force
    from posterior_knee.reasoning.counterfactual import scores_from_silent

    from .networks import tiny_structure

    structure = tiny_structure(seed, certain)
    case = _tiny_case(data, structure)
    if brute_force(structure, case)[0] == 0.0:
        return
    arrays = structure.finding_arrays
    row = {f.name: j for j, f in enumerate(structure.findings)}
    present = [n for n, v in case.items() if v and n in row]

    def joint_many(variants):
        answers = [brute_force(structure, v) for v in variants]
        return np.array([a[1] for a in answers]), np.array([a[0] for a in answers])

    def joint_without_link(e, drop):
        total, causes, _ = brute_force(
            _without_link(structure, drop[1], structure.cause_ids[drop[0]]), e)
        return causes, total

    want = scores_from_joint(joint_many, case, present,
                             {n: arrays.strength[row[n]] for n in present},
                             joint_without_link,
                             {n: 1.0 - arrays.keep[row[n]] for n in present})
    got = scores_from_silent(EliminationEngine(structure).silent_sums(
        Cases.from_parts([structure.split_evidence(case)], structure)),
        arrays.strength, arrays.keep)
    np.testing.assert_allclose(got.disablement, want.disablement, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got.sufficiency, want.sufficiency, rtol=0, atol=1e-9)
    assert got.outside == pytest.approx(want.outside, abs=1e-9)
    assert got.present == want.present


@pytest.mark.parametrize("m", [1, 3, 6, 9, 12, 15])
def test_both_routes_give_the_scores_of_one_query_per_variant(core, monkeypatch, m):
    """On the shipped causes, at every size: the silent sums, the factored variants
    and the variants the posterior carries (each route forced) against the closed form
    fed by enumeration, one query per variant."""
    from posterior_knee.inference import _dispatch
    from posterior_knee.inference._engine import ExactEngine

    rng = np.random.default_rng(300 + m)
    findings = list(core.kb.finding_ids)
    while True:
        chosen = rng.choice(len(findings), m + 3, replace=False)
        case = {findings[k]: bool(i < m) for i, k in enumerate(chosen)}
        case["age_over_50"] = True
        try:
            case = core.evidence(case)
            core.posterior(case)
            break
        except pk.errors.PosteriorKneeError:
            continue
    reference = ExactEngine(core.structure)
    arrays = core.structure.finding_arrays
    row = {f.name: j for j, f in enumerate(core.structure.findings)}
    present = [n for n, v in case.items() if v and n in row]

    def joint_many(variants):
        posts = [reference.posterior(v) for v in variants]
        return (np.array([p.causes * p.evidence_probability for p in posts]),
                np.array([p.evidence_probability for p in posts]))

    want = scores_from_joint(joint_many, case, present,
                             {n: arrays.strength[row[n]] for n in present}, None,
                             {n: 1.0 - arrays.keep[row[n]] for n in present})
    # the variants carried by the posterior (Quickscore's by subset or the positive
    # recursion's), the variants queried as a batch, the silent sums
    routes = {"silent": (-1.0, -1.0)}
    if m <= _dispatch.MAX_PRESENT_POSITIVE + 1:
        routes["variants"] = (-1.0, 1e30)
    if m <= _dispatch.MAX_PRESENT_POSITIVE:
        routes["carried"] = (1e30, -1.0)
    for route, (carried, budget) in routes.items():
        monkeypatch.setattr(_dispatch, "VARIANTS_COST", carried)
        monkeypatch.setattr(_dispatch, "VARIANTS_BUDGET", budget)
        assert core._engines.counterfactual_route(case) == route.replace("carried",
                                                                          "variants")
        posterior = core._engines.posterior(case)
        assert (posterior.quickscore is not None) == (route == "carried")
        got = counterfactual_scores(core, case, posterior)
        np.testing.assert_allclose(got.disablement, want.disablement, rtol=0, atol=1e-9)
        np.testing.assert_allclose(got.sufficiency, want.sufficiency, rtol=0, atol=1e-9)
        assert got.outside == pytest.approx(want.outside, abs=1e-9)
