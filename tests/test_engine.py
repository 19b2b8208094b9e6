"""The exact engine against pgmpy's variable elimination, and basic probability laws."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee.errors import ImpossibleEvidenceError
from posterior_knee.inference._engine import ExactEngine, Posterior
from posterior_knee.inference._factored import MAX_PRESENT_POSITIVE, Cases
from posterior_knee.inference._positive import positive_sums

from .networks import core_kb
from .pgmpy_reference import PgmpyReference
from .strategies import evidence, perturbed_kb, restructured_kb

TOLERANCE = 1e-9
# the enumeration engine's random networks start from the shipped network cut to 20 causes
CORE = core_kb(pk.load_knowledge_base())


def enumeration(model):
    """The enumeration engine of a model: every cause configuration, the reference."""
    return ExactEngine(model.structure)


def factored(model):
    return model._engines.factored


@pytest.fixture(scope="module")
def core_enumeration(core):
    """The reference on the 20-cause core, compiled once for the module."""
    return enumeration(core)


def assert_same(a, b):
    np.testing.assert_allclose(a.causes, b.causes, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(a.groups, b.groups, rtol=0, atol=TOLERANCE)


def test_network_passes_pgmpy_check(model, kb):
    network = model.network
    assert network.check_model()
    expected = set(kb.cause_ids) | set(kb.finding_ids) | set(kb.risk_factor_ids)
    assert expected <= set(network.nodes())
    for cpd in network.get_cpds():
        if cpd.variable_card == 2:
            assert cpd.state_names[cpd.variable] == ["no", "yes"]
        # columns sum to one within 1e-9 (pgmpy's own check is looser)
        np.testing.assert_allclose(cpd.get_values().sum(axis=0), 1.0, atol=1e-9)


@pytest.mark.parametrize("equal", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_wide_findings_are_divorced_exactly(seed, equal):
    """A finding with more causes than one table takes is stored through part nodes
    (the fewest, of equal size, or filled in turn): pgmpy then answers as with the full
    noisy-OR table, and as the exact engine."""
    from posterior_knee.inference import _pgmpy

    from .networks import tiny_structure

    structure = tiny_structure(seed)
    whole = _pgmpy.build_network(structure, table_parents=None)
    parted = _pgmpy.build_network(structure, table_parents=2, equal_parts=equal)
    wide = [f for f in structure.findings if len(f.parents) > 2]
    assert wide  # every seed here has some
    for finding in wide:
        parents = parted.get_parents(finding.name)
        assert parents == [_pgmpy.PART.format(finding=finding.name, k=k)
                           for k in range(1, len(parents) + 1)]
        sizes = [len(parted.get_parents(part)) for part in parents]
        assert sum(sizes) == len(finding.parents) and len(sizes) == -(-sum(sizes) // 2)
        if equal:
            assert max(sizes) - min(sizes) <= 1
        else:
            assert sizes[:-1] == [2] * (len(sizes) - 1)
    stored = [f.name for f in structure.findings] + [n for n in parted.nodes() if "." in n]
    assert max(len(parted.get_parents(n)) for n in stored) <= 2  # (4 linked causes at most)
    rng = np.random.default_rng(seed)
    engine = ExactEngine(structure)
    for _ in range(3):
        names = [f.name for f in structure.findings] + list(structure.risk_evidence)
        chosen = rng.choice(names, size=4, replace=False)
        case = {str(n): bool(rng.random() < 0.5) for n in chosen}
        if case.get("young") and case.get("old"):
            case["old"] = False
        a = PgmpyReference(whole, structure).posterior(case)
        b = PgmpyReference(parted, structure).posterior(case)
        np.testing.assert_allclose(b.causes, a.causes, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.groups, a.groups, rtol=0, atol=1e-12)
        np.testing.assert_allclose(b.causes, engine.posterior(case).causes, rtol=0,
                                   atol=TOLERANCE)


def test_no_evidence_matches_pgmpy(model, reference):
    assert_same(model.posterior({}), reference.posterior({}))


@pytest.fixture(scope="module")
def by_small_queries(model):
    """pgmpy on the shipped network, one single-variable query per number."""
    return PgmpyReference(model.network, model.structure)


@settings(max_examples=10)  # pgmpy answers about 60 queries per example on the full network
@given(data=evidence(pk.load_knowledge_base(), max_size=8))
def test_random_evidence_matches_pgmpy(model, by_small_queries, data):
    """The exact engine against pgmpy's variable elimination (the pgmpy engine itself,
    ``reference``, is checked on fixed cases above and below, and on random networks).

    At most 8 ids: past about 9 present findings one case costs pgmpy up to minutes on
    the shipped network (with 12 ids this test alone took 26-260 s from run to run).
    Every m from 0 to 15 is checked against enumeration on the shipped network cut to
    20 causes (tests/test_elimination.py)."""
    case = model.evidence(data)
    assert_same(model.posterior(case), by_small_queries.posterior(case))


@settings(max_examples=5)  # each example builds a pgmpy network
@given(random_kb=perturbed_kb(CORE),
       data=evidence(pk.load_knowledge_base(), max_size=8))
def test_random_priors_match_pgmpy(random_kb, data):
    """Both exact engines (factored, where it answers, and enumeration) on random priors."""
    exact, slow = pk.Model(random_kb), pk.Model(random_kb, engine="pgmpy")
    case = exact.evidence(data)
    reference = slow.posterior(case)
    assert_same(enumeration(exact).posterior(case), reference)
    fast = factored(exact).posterior(case)
    if fast is not None:
        assert_same(fast, reference)


def test_pgmpy_engine_gives_the_same_diagnosis(model, reference):
    case = {"lump_behind_knee": True, "calf_swelling": True, "fever": False}
    a, b = model.diagnose(case), reference.diagnose(case)
    np.testing.assert_allclose(a.ranking["probability"], b.ranking["probability"],
                               atol=TOLERANCE)
    assert list(a.ranking["cause"]) == list(b.ranking["cause"])
    assert a.triage == b.triage


def test_bif_export_reloads_to_the_same_answers(model, tmp_path):
    """The network written with pgmpy's BIF writer and read back answers the same."""
    from pgmpy.inference import VariableElimination
    from pgmpy.readwrite import BIFReader, BIFWriter

    path = tmp_path / "posterior_knee.bif"
    BIFWriter(model.network).write(str(path))
    network = BIFReader(str(path)).get_model()
    case = {"calf_swelling": "yes", "fever": "no", "age_over_50": "yes"}
    infer = VariableElimination(network)
    result = infer.query(["dvt", "bakers_cyst"], evidence=case, joint=False,
                         show_progress=False)
    ours = model.posterior({"calf_swelling": True, "fever": False, "age_over_50": True})
    order = list(model.structure.cause_ids)
    for cause in ("dvt", "bakers_cyst"):
        assert result[cause].get_value(**{cause: "yes"}) == pytest.approx(
            ours.causes[order.index(cause)], abs=1e-6)  # BIF stores rounded numbers


def test_xmlbif_export_reloads_to_identical_answers(model, tmp_path):
    """XMLBIF keeps full precision: the reloaded network answers to 1e-9."""
    from pgmpy.inference import VariableElimination
    from pgmpy.readwrite import XMLBIFReader, XMLBIFWriter

    path = tmp_path / "posterior_knee.xml"
    XMLBIFWriter(model.network).write(str(path))
    infer = VariableElimination(XMLBIFReader(str(path)).get_model())
    case = {"lump_behind_knee": True, "fever": False, "age_under_30": True}
    states = {k: "yes" if v else "no" for k, v in case.items()}
    # one query per cause: joint=False over all causes first builds their joint table
    theirs = [infer.query([c], evidence=states, show_progress=False).get_value(**{c: "yes"})
              for c in model.structure.cause_ids]
    np.testing.assert_allclose(theirs, model.posterior(case).causes, atol=TOLERANCE)


@given(data=evidence(pk.load_knowledge_base(), max_size=20))
def test_probabilities_are_probabilities(model, data):
    post = model.posterior(model.evidence(data))
    assert np.all((post.causes >= 0) & (post.causes <= 1))
    assert np.all((post.groups >= 0) & (post.groups <= 1))
    # a group is at least as probable as each of its causes
    order = list(model.structure.cause_ids)
    for p_group, causes in zip(post.groups, model.structure.groups.values()):
        for cause in causes:
            assert p_group >= post.causes[order.index(cause)] - 1e-12


def test_no_evidence_gives_prior_marginals(model, kb):
    """With no evidence, causes with no parents keep their CSV prior exactly."""
    post = model.posterior({})
    parents = set(kb.risk_effects["cause"]) | set(kb.cause_links["child"])
    for i, row in enumerate(kb.causes.itertuples()):
        if row.id not in parents:
            assert post.causes[i] == pytest.approx(row.prior, abs=1e-12)
    # and unknown values are marginalised: None is the same as leaving an id out
    assert_same(model.posterior(model.evidence({"fever": None})), post)


def test_requires_link_is_respected(core):
    link = core.kb.cause_links[core.kb.cause_links["kind"] == "requires"].iloc[0]
    # with no parent cause, the child cannot be present: check through the joint
    table = enumeration(core).joint({})
    order = list(core.structure.cause_ids)
    index = [slice(None)] * len(order)
    index[order.index(link["parent"])] = 0
    index[order.index(link["child"])] = 1
    assert table[tuple(index)].sum() == 0.0


def test_exclusive_age_bands_are_impossible_together(model, reference):
    for engine in (model, reference):
        with pytest.raises(ImpossibleEvidenceError, match="age_under_30"):
            engine.diagnose({"age_under_30": True, "age_over_50": True})


def test_age_band_evidence_matches_pgmpy(model, reference):
    for case in ({"age_under_30": False, "age_over_50": False}, {"age_over_50": True},
                 {"age_under_30": False}):
        assert_same(model.posterior(case), reference.posterior(case))


def test_zero_probability_evidence_is_reported(kb):
    findings = kb.findings.copy()
    finding = "crepitus"  # outside the safety floor, whose findings keep a leak above 0
    findings.loc[findings["id"] == finding, "leak"] = 0.0
    links = kb.finding_links[kb.finding_links["finding"] != finding]
    lonely = pk.Model(kb.replace(findings=findings, finding_links=links))
    with pytest.raises(ImpossibleEvidenceError):
        lonely.diagnose({finding: True})


# -- the factored engine (Quickscore over hub configurations) -------------------------


@given(data=evidence(pk.load_knowledge_base(), max_size=14))
def test_factored_engine_matches_enumeration(core, core_enumeration, data):
    case = core.evidence(data)
    fast = factored(core).posterior(case)
    slow = core_enumeration.posterior(case)
    if fast is None:  # declined: too many present findings or possible cancellation
        return
    assert_same(fast, slow)
    assert fast.evidence_probability == pytest.approx(slow.evidence_probability, rel=1e-9)


@given(data=evidence(pk.load_knowledge_base(), max_size=10))
def test_factored_engine_answers_with_few_present_findings(model, data):
    """It must not decline everything: with at most one present finding it answers."""
    case = model.evidence(data)
    present = [k for k, v in case.items() if v and k in model.kb.finding_ids]
    if len(present) <= 1:
        assert factored(model).posterior(case) is not None


def test_factored_engine_structure(model):
    engine = factored(model)
    assert sorted(i for unit in engine.units for i in unit) == list(range(engine.n))
    assert "age_band" in engine.hubs
    # a requires link keeps a ruptured cyst in the same unit as the cyst
    order = list(model.structure.cause_ids)
    unit = next(u for u in engine.units if order.index("bakers_cyst") in u)
    assert order.index("bakers_cyst_rupture") in unit


@given(data=st.lists(evidence(pk.load_knowledge_base(), max_size=14), min_size=1,
                     max_size=4))
def test_positive_sums_match_enumeration(core, core_enumeration, data):
    """The cancellation-free recursion: every case certain, equal to enumeration."""
    cases = [core.evidence(case) for case in data]
    parts = [core.structure.split_evidence(case) for case in cases]
    m = len(parts[0].present)
    rows = [i for i, p in enumerate(parts) if len(p.present) == m]
    if m > MAX_PRESENT_POSITIVE:
        return
    sums = positive_sums(factored(core), Cases.from_parts([parts[i] for i in rows],
                                                           core.structure))
    assert sums.ok.all()
    causes, groups = sums.posteriors()
    for k, i in enumerate(rows):
        slow = core_enumeration.posterior(cases[i])
        assert_same(Posterior(causes[k], groups[k], float(sums.total[k])), slow)
        assert sums.total[k] == pytest.approx(slow.evidence_probability, rel=1e-12)


@given(data=st.lists(evidence(pk.load_knowledge_base(), max_size=12), min_size=1,
                     max_size=6),
       improbable=st.lists(st.sampled_from(
           ["chest_pain", "locking", "lump_behind_knee", "fever", "scaly_skin_rash",
            "foot_drop", "pulsatile_lump", "cold_pale_foot"]), min_size=2, max_size=3,
           unique=True))
def test_quickscore_error_bound_holds(model, data, improbable):
    """The rounding bound Quickscore certifies with is an upper bound on its error,
    also where its terms cancel (improbable findings together): measured against the
    sums of positive terms, which carry their own, small, bound."""
    cases = [model.evidence({**case, **dict.fromkeys(improbable, True)}) for case in data]
    parts = [model.structure.split_evidence(case) for case in cases]
    engine = factored(model)
    for m in sorted({len(p.present) for p in parts if len(p.present) <= 3}):
        batch = Cases.from_parts([p for p in parts if len(p.present) == m], model.structure)
        quick, exact = engine.sums(batch), positive_sums(engine, batch)
        assert (np.abs(quick.total - exact.total) <= quick.error + exact.error).all()
        assert (np.abs(quick.causes - exact.causes)
                <= (quick.error + exact.error)[:, None]).all()
    # the counterfactual variants read from the terms by subset: each present finding
    # taken out, or reported absent
    case = cases[0]
    present = [f for f, v in case.items() if v and f in model.kb.finding_ids]
    if not 1 <= len(present) <= 3:
        return
    _, subsets = engine._sums(Cases.from_parts([parts[0]], model.structure), True,
                              subsets=True)
    for j, name in enumerate(model.structure.findings[k].name for k in subsets.present):
        for absent in (False, True):
            changed = {k: v for k, v in case.items() if k != name}
            if absent:
                changed[name] = False
            exact = positive_sums(engine, Cases.from_parts(
                [model.structure.split_evidence(changed)], model.structure))
            total, causes, error = subsets.variant(j, absent)
            assert abs(total - exact.total[0]) <= error + exact.error[0]
            assert (np.abs(causes - exact.causes[0]) <= error + exact.error[0]).all()


def test_positive_sums_where_quickscore_cancels(core):
    """Improbable findings together: Quickscore cannot certify, the recursion can."""
    case = core.evidence({"chest_pain": True, "locking": True, "lump_behind_knee": True,
                           "fever": True, "scaly_skin_rash": True, "age_under_30": True})
    cases = Cases.from_parts([core.structure.split_evidence(case)], core.structure)
    assert not factored(core).sums(cases).ok[0]
    sums = positive_sums(factored(core), cases)
    causes, groups = sums.posteriors()
    assert_same(Posterior(causes[0], groups[0], float(sums.total[0])),
                enumeration(core).posterior(case))
    assert factored(core).posterior(case) is not None


@given(case=evidence(pk.load_knowledge_base(), max_size=10),
       improbable=st.lists(st.sampled_from(
           ["chest_pain", "locking", "lump_behind_knee", "fever", "scaly_skin_rash"]),
           max_size=2, unique=True))
def test_positive_variants_match_enumeration(core, core_enumeration, case, improbable):
    """The counterfactual variants from the positive recursion's backward columns
    (each present finding reported absent, each taken out) equal one enumeration per
    variant, each certain; the evidence's own sums are positive_sums' (improbable
    findings added where Quickscore would cancel)."""
    from posterior_knee.inference._positive import positive_variants

    case = core.evidence({**case, **dict.fromkeys(improbable, True)})
    parts = core.structure.split_evidence(case)
    m = len(parts.present)
    if not 1 <= m <= 5:
        return
    cases = Cases.from_parts([parts], core.structure)
    sums, variants = positive_variants(factored(core), cases)
    alone = positive_sums(factored(core), cases)
    np.testing.assert_allclose(sums.total, alone.total, rtol=1e-13, atol=0)
    np.testing.assert_allclose(sums.causes, alone.causes, rtol=1e-12, atol=0)
    names = [core.structure.findings[j].name for j in variants.present]
    assert sorted(names) == sorted(f.name for f in parts.present)
    for j, name in enumerate(names):
        for absent in (False, True):
            changed = {k: v for k, v in case.items() if k != name}
            if absent:
                changed[name] = False
            try:
                slow = core_enumeration.posterior(changed)
            except ImpossibleEvidenceError:
                slow = None
            total, causes, error = variants.variant(j, absent)
            assert error <= 1e-12 * total
            if slow is None:
                assert total == 0.0
                continue
            assert total == pytest.approx(slow.evidence_probability, rel=1e-12)
            np.testing.assert_allclose(causes / total, slow.causes, rtol=0, atol=1e-9)


def test_positive_sums_carry_only_the_hub_configurations_the_evidence_allows(core):
    """Rows that state hubs (an age band, sport) rule out hub configurations, which the
    recursion drops; a row stating none keeps them all in the same batch. The rows run
    grouped by the configurations they allow and come back in their order: each row
    equals enumeration."""
    engine = factored(core)
    assert {"age_band", "plays_sport"} <= set(engine.hubs)
    present = {"calf_pain": True, "lump_behind_knee": True, "fever": True}
    rows = [{**present, "age_over_50": True, "plays_sport": False},
            {**present, "age_under_30": True},
            present]
    cases = [core.evidence(case) for case in rows]
    for chosen in ([0], [0, 1], [0, 1, 2]):
        batch = Cases.from_parts([core.structure.split_evidence(cases[i]) for i in chosen],
                                 core.structure)
        sums = positive_sums(engine, batch)
        causes, groups = sums.posteriors()
        for k, i in enumerate(chosen):
            slow = enumeration(core).posterior(cases[i])
            assert_same(Posterior(causes[k], groups[k], float(sums.total[k])), slow)
            assert sums.total[k] == pytest.approx(slow.evidence_probability, rel=1e-12)


def test_quickscore_keeps_only_the_hub_configurations_the_evidence_allows(core, monkeypatch):
    """Quickscore's sums skip the hub configurations no row of the batch can be in (a
    stated age band or hub risk factor rules them out); a row stating none keeps them
    all. Each row equals enumeration, and the sums equal those over every hub
    configuration to rounding."""
    from posterior_knee.inference import _factored

    engine = factored(core)
    present = {"calf_pain": True, "lump_behind_knee": True}
    rows = [{**present, "age_over_50": True, "plays_sport": False},
            {**present, "age_under_30": True},
            present]
    cases = [core.evidence(case) for case in rows]
    kept = []
    for chosen in ([0], [0, 1], [0, 1, 2]):
        batch = Cases.from_parts([core.structure.split_evidence(cases[i]) for i in chosen],
                                 core.structure)
        hub_p = engine._tables(batch)[0]
        kept.append(_factored._live(hub_p))
        sums = engine.sums(batch)
        assert sums.ok.all()
        causes, groups = sums.posteriors()
        for k, i in enumerate(chosen):
            slow = enumeration(core).posterior(cases[i])
            assert_same(Posterior(causes[k], groups[k], float(sums.total[k])), slow)
            assert sums.total[k] == pytest.approx(slow.evidence_probability, rel=1e-12)
        # the same batch over every hub configuration
        with monkeypatch.context() as patch:
            patch.setattr(_factored, "_live", lambda hub_p: None)
            every = engine.sums(batch)
        np.testing.assert_allclose(sums.total, every.total, rtol=1e-12, atol=0)
        np.testing.assert_allclose(sums.causes, every.causes, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(sums.none, every.none, rtol=1e-12, atol=1e-300)
    # one row keeps a sixth of the configurations (one of three age bands, one of two
    # sport answers), two rows stating different bands the union, none every one
    total = len(engine._hub_prior)
    assert len(kept[0]) == total // 6
    assert len(kept[1]) == total // 6 + total // 3
    assert kept[2] is None


@given(data=st.lists(evidence(pk.load_knowledge_base(), max_size=12), min_size=1,
                     max_size=8))
def test_factored_batch_matches_single_queries(core, core_enumeration, data):
    """A batch answers each case as enumeration does (one batch per number present)."""
    cases = [core.evidence(case) for case in data]
    parts = [core.structure.split_evidence(case) for case in cases]
    for m in {len(p.present) for p in parts} - set(range(5, 100)):
        rows = [i for i, p in enumerate(parts) if len(p.present) == m]
        sums = factored(core).sums(Cases.from_parts([parts[i] for i in rows],
                                                     core.structure))
        causes, groups = sums.posteriors()
        for k, i in enumerate(rows):
            if sums.ok[k]:
                assert_same(Posterior(causes[k], groups[k], float(sums.total[k])),
                            core_enumeration.posterior(cases[i]))


@given(random_kb=restructured_kb(CORE),
       data=st.lists(evidence(pk.load_knowledge_base(), max_size=8), min_size=1,
                     max_size=4))
def test_random_networks_factored_matches_enumeration(random_kb, data):
    """Other hubs and other units of linked causes: single queries and a batch."""
    model = pk.Model(random_kb)
    cases = [model.evidence(case) for case in data]
    for case in cases:
        fast = factored(model).posterior(case)
        if fast is not None:
            assert_same(fast, enumeration(model).posterior(case))
    parts = [model.structure.split_evidence(case) for case in cases]
    rows = [i for i, p in enumerate(parts) if len(p.present) == len(parts[0].present)]
    sums = factored(model).sums(Cases.from_parts([parts[i] for i in rows], model.structure))
    causes, groups = sums.posteriors()
    for k, i in enumerate(rows):
        if sums.ok[k]:
            assert_same(Posterior(causes[k], groups[k], float(sums.total[k])),
                        enumeration(model).posterior(cases[i]))


@settings(max_examples=5)
@given(random_kb=restructured_kb(pk.load_knowledge_base()),
       data=evidence(pk.load_knowledge_base(), max_size=6))
def test_random_networks_match_pgmpy(random_kb, data):
    exact, slow = pk.Model(random_kb), pk.Model(random_kb, engine="pgmpy")
    case = exact.evidence(data)
    assert_same(exact.posterior(case), slow.posterior(case))


def test_one_large_unit_falls_back_to_elimination(core):
    """Causes chained into one unit above MAX_UNIT: no factored engine, same answers."""
    causes = list(core.kb.cause_ids)
    chain = pd.DataFrame({"parent": causes[:-1], "child": causes[1:], "kind": "odds_ratio",
                          "odds_ratio": 1.5, "source": "test: a chain"})
    model = pk.Model(core.kb.replace(cause_links=chain))
    assert factored(model) is None
    case = model.evidence({"lump_behind_knee": True, "fever": False, "age_over_50": True})
    assert_same(model.posterior(case), enumeration(model).posterior(case))
    table = model.diagnose(case).next_questions(k=3)
    assert len(table) == 3


def test_every_cause_in_a_larger_unit(core):
    """No single-cause units at all: the factored engine still matches enumeration."""
    causes = list(core.kb.cause_ids)
    pairs = pd.DataFrame({"parent": causes[0:-1:2], "child": causes[1::2], "kind": "odds_ratio",
                          "odds_ratio": 2.0, "source": "test: pairs"})
    if len(causes) % 2:  # the odd one out joins the last pair
        pairs.loc[len(pairs)] = [causes[-2], causes[-1], "odds_ratio", 2.0, "test: pairs"]
    model = pk.Model(core.kb.replace(cause_links=pairs))
    assert min(map(len, factored(model).units)) >= 2
    for case in ({}, {"lump_behind_knee": True, "calf_pain": True, "fever": False}):
        case = model.evidence(case)
        assert_same(factored(model).posterior(case), enumeration(model).posterior(case))


@pytest.mark.parametrize("block", [(1, 4, 2), (3, 40, 8)])  # below and above SMALL_BLOCK
def test_products_but_one_is_every_other_product_in_order(block):
    """Both ways of taking the products of every other unit (cumulative products for
    one query's small blocks, a loop of block products for a batch's) give each
    entry the product of all the others, multiplied in order: the same bits as the
    product of the ones before it times the product of the ones after it."""
    from posterior_knee.inference._factored import SMALL_BLOCK, _products_but_one

    rng = np.random.default_rng(7)
    values = rng.uniform(0.1, 1.0, (6, *block))
    assert (values[0].size <= SMALL_BLOCK) == (block == (1, 4, 2))
    out = _products_but_one(values)
    for k in range(len(values)):
        before = np.ones(block)
        for v in values[:k]:
            before = before * v
        after = np.ones(block)
        for v in values[:k:-1]:
            after = after * v
        np.testing.assert_array_equal(out[k], before * after if k < len(values) - 1
                                      else before)


def test_group_sums_agree_for_a_query_and_inside_a_batch(core):
    """A query gathers every group's factors at once, a batch in slices: the same
    P(no cause of the group, e) for the same row either way."""
    engine = factored(core)
    rows = [{"calf_pain": True, "age_over_50": True}, {"calf_pain": True, "warmth": False},
            {"calf_pain": True, "plays_sport": True, "fever": False}]
    parts = [core.structure.split_evidence(core.evidence(case)) for case in rows]
    batch = engine.sums(Cases.from_parts(parts, core.structure))
    for k, part in enumerate(parts):
        one = engine.sums(Cases.from_parts([part], core.structure))
        np.testing.assert_allclose(batch.none[k], one.none[0], rtol=1e-13, atol=0)
