"""Loading, validating and saving knowledge bases."""

import csv
import hashlib
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import posterior_knee as pk
from posterior_knee.errors import KnowledgeBaseError
from posterior_knee.knowledge._schema import TABLES

from .strategies import perturbed_kb
from .vocabulary import CAUSES, FINDINGS, RISK_FACTORS


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def edit_cell(folder, table, row_index, column, value):
    """Set one cell (row_index counts data rows from 0); returns the file line number."""
    path = folder / f"{table}.csv"
    rows = read_rows(path)
    rows[row_index + 1][rows[0].index(column)] = value
    write_rows(path, rows)
    return row_index + 2


def problem(error: KnowledgeBaseError, file: str):
    found = [p for p in error.problems if p.file == file]
    assert found, f"no problem reported for {file}: {error}"
    return found[0]


def digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


# -- the shipped knowledge base ------------------------------------------------------


def test_required_vocabulary_present(kb):
    causes = kb.causes.set_index("id")["group"].to_dict()
    for cause, group in CAUSES.items():
        assert causes.get(cause) == group, cause
    assert set(FINDINGS) <= set(kb.finding_ids)
    assert set(RISK_FACTORS) <= set(kb.risk_factor_ids)


def test_every_number_has_a_source(kb):
    for name in TABLES:
        frame = getattr(kb, name)
        empty = frame["source"].str.strip() == ""
        assert not empty.any(), f"{name}.csv rows without source: {frame[empty]}"
        expert = frame["source"].str.lower().str.startswith("expert estimate")
        # an expert estimate must say why
        short = frame.loc[expert, "source"].str.len() < len("expert estimate: ") + 10
        assert not short.any(), f"{name}.csv: expert estimates without a reason"


def test_every_cause_and_finding_is_linked(kb):
    linked_findings = set(kb.finding_links["finding"])
    assert set(kb.finding_ids) <= linked_findings
    assert set(kb.cause_ids) <= set(kb.finding_links["cause"])


NESTED = [  # (narrower, broader): a yes to the first is a yes to the second
    ("duration_over_2_weeks", "duration_over_3_days"),
    ("sudden_calf_swelling", "calf_swelling"),
    ("sudden_leg_swelling", "leg_swelling_one_side"),
    ("pulsatile_lump", "lump_behind_knee"),
    ("painless_lump", "lump_behind_knee"),
    ("lump_growing", "lump_behind_knee"),
    ("hot_painful_knee", "warmth"),
    # the broader question's words cover the narrower one (December 2026)
    ("pain_below_kneecap", "pain_front_of_knee"),
    ("pain_behind_kneecap", "pain_front_of_knee"),
    ("cannot_bear_weight", "affects_sleep_or_walking"),
    ("severe_pain", "pain_at_rest"),
    ("claudication", "calf_pain"),
    ("tense_calf", "calf_swelling"),
    # pain worsening over months or years has lasted more than 2 weeks (December 2026)
    ("slowly_worsening", "duration_over_2_weeks"),
]


@pytest.mark.parametrize(("narrow", "broad"), NESTED)
def test_a_nested_finding_is_never_likelier_than_the_finding_it_implies(kb, narrow, broad):
    """Under each cause alone (and under none), P(narrower) <= P(broader): pain for more
    than 2 weeks cannot be likelier than pain for more than 3 days. Noisy-OR does not
    enforce it; the numbers must (ACL injury and fabella syndrome once broke it)."""
    leak = kb.findings.set_index("id")["leak"]
    links = kb.finding_links.pivot(index="cause", columns="finding", values="strength")
    strength = links.reindex(index=kb.cause_ids, columns=[narrow, broad]).fillna(0.0)
    p_narrow = 1.0 - (1.0 - strength[narrow]) * (1.0 - leak[narrow])
    p_broad = 1.0 - (1.0 - strength[broad]) * (1.0 - leak[broad])
    assert leak[narrow] <= leak[broad]
    assert (p_narrow <= p_broad + 1e-12).all(), p_narrow[p_narrow > p_broad].to_dict()


KNEE_JOINT_CAUSES = ("osteoarthritis", "inflammatory_arthritis", "chondromalacia",
                     "patellar_tendinopathy")


@pytest.mark.parametrize("cause", KNEE_JOINT_CAUSES)
def test_a_knee_problem_in_both_knees_counts_as_another_joint(kb, cause):
    """For a cause felt in the knee itself, "the same pain in both legs" is the other
    knee, which the question ``other_joints_affected`` names: its link is at least the
    cause's ``both_legs`` link (a two-sided patellofemoral pain once raised only the
    second, so "both knees" read as a sign of inflammatory arthritis alone)."""
    links = kb.finding_links.pivot(index="cause", columns="finding", values="strength")
    strength = links.reindex(index=[cause], columns=["both_legs", "other_joints_affected"])
    strength = strength.fillna(0.0).loc[cause]
    assert strength["both_legs"] > 0.0
    assert strength["other_joints_affected"] >= strength["both_legs"]


def test_the_pgmpy_tables_stay_small(model):
    """A finding with many causes is stored through parts (2**parents columns each), so
    the network and its BIF export stay small however many causes a finding has."""
    from posterior_knee.inference._pgmpy import TABLE_PARENTS

    network = model.network
    for finding in model.structure.findings:
        assert len(network.get_parents(finding.name)) <= TABLE_PARENTS
    assert max(cpd.values.size for cpd in network.get_cpds()) <= 2 ** 16


def test_text_is_not_copied_from_sources(kb):
    """Labels, questions and reasons are written in the project's own words."""
    import pathlib

    seeds = pathlib.Path(__file__).parents[2] / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("source documents not beside the checkout")
    text = " ".join(p.read_text(encoding="utf-8").lower() for p in seeds.glob("*.txt"))
    text = re.sub(r"\s+", " ", text)
    ours = list(kb.findings["question"]) + list(kb.red_flags["reason"]) + list(
        kb.thresholds["reason"])
    for sentence in ours:
        words = re.sub(r"\s+", " ", sentence.lower()).split()
        # no run of 8 consecutive words appears in the sources
        for i in range(len(words) - 7):
            assert " ".join(words[i:i + 8]) not in text, sentence


def test_repr(kb):
    assert "causes" in repr(kb) and "red-flag" in repr(kb)


# -- loading errors ----------------------------------------------------------------


def test_missing_folder_names_it(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="does not exist"):
        pk.load_knowledge_base(tmp_path / "nowhere")


def test_missing_file(priors_copy):
    (priors_copy / "thresholds.csv").unlink()
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert "missing" in str(problem(info.value, "thresholds.csv"))


def test_missing_column_suggests_the_name(priors_copy):
    rows = read_rows(priors_copy / "causes.csv")
    rows[0][rows[0].index("prior")] = "priors"
    write_rows(priors_copy / "causes.csv", rows)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    p = problem(info.value, "causes.csv")
    assert p.column == "prior" and "Did you mean 'priors'" in p.message


def test_a_table_given_with_a_repeated_column_names_it(kb):
    """A frame given with a column twice (a CSV header is checked on reading) is
    refused with the file, the header line and the column."""
    twice = pd.concat([kb.causes, kb.causes[["prior"]]], axis=1)
    with pytest.raises(KnowledgeBaseError) as info:
        kb.replace(causes=twice)
    p = problem(info.value, "causes.csv")
    assert (p.line, p.column) == (1, "prior") and "repeated" in p.message


def test_empty_file(priors_copy):
    (priors_copy / "findings.csv").write_text("")
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert "empty" in problem(info.value, "findings.csv").message


def test_header_only_file(priors_copy):
    rows = read_rows(priors_copy / "red_flags.csv")
    write_rows(priors_copy / "red_flags.csv", rows[:1])
    with pytest.raises(KnowledgeBaseError, match="has no rows"):
        pk.load_knowledge_base(priors_copy)


@pytest.mark.parametrize(
    ("table", "column", "value", "words"),
    [
        ("causes", "prior", "abc", "not a number"),
        ("causes", "prior", "0,15", "decimal separator"),
        ("causes", "prior", "15%", "fraction"),
        ("causes", "prior", "1.5", "outside [0, 1]"),
        ("findings", "leak", "-0.1", "outside [0, 1]"),
        ("finding_links", "strength", "", "empty"),
        ("risk_effects", "odds_ratio", "0", "positive"),
        ("risk_effects", "odds_ratio", "inf", "finite"),
        ("causes", "group", "clot", "one of"),
        ("red_flags", "level", "Emergency", "Did you mean 'emergency'"),
        ("causes", "id", "Calf Strain", "not a valid id"),
        ("thresholds", "probability", "0", "outside (0, 1]"),
        ("finding_links", "cause", "calf_strian", "Did you mean 'calf_strain'"),
        ("red_flags", "condition", "fevr; hot_painful_knee", "Did you mean 'fever'"),
    ],
)
def test_bad_cell_names_file_line_and_column(priors_copy, table, column, value, words):
    line = edit_cell(priors_copy, table, 0, column, value)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    p = problem(info.value, f"{table}.csv")
    assert (p.line, p.column) == (line, column)
    assert words in p.message


def test_line_numbers_count_blank_lines(priors_copy):
    path = priors_copy / "causes.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # a blank line after the first row
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = 4  # the second data row is now on file line 4
    rows = read_rows(path)
    rows[3][rows[0].index("prior")] = "lots"
    write_rows(path, rows)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert problem(info.value, "causes.csv").line == line


def test_ragged_row(priors_copy):
    path = priors_copy / "findings.csv"
    with open(path, "a", encoding="utf-8") as f:
        f.write("only,three,cells\n")
    with pytest.raises(KnowledgeBaseError, match="cells but the header has"):
        pk.load_knowledge_base(priors_copy)


def test_not_utf8(priors_copy):
    path = priors_copy / "causes.csv"
    path.write_bytes(path.read_bytes().replace(b"Baker's", "Baker’s".encode("cp1252")))
    with pytest.raises(KnowledgeBaseError, match="UTF-8"):
        pk.load_knowledge_base(priors_copy)


def test_duplicate_id(priors_copy):
    rows = read_rows(priors_copy / "causes.csv")
    rows.append(rows[1])
    write_rows(priors_copy / "causes.csv", rows)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    p = problem(info.value, "causes.csv")
    assert p.line == len(rows) and "duplicate" in p.message and "line 2" in p.message


def test_id_used_in_two_files(priors_copy):
    rows = read_rows(priors_copy / "findings.csv")
    rows[1][0] = "dvt"
    write_rows(priors_copy / "findings.csv", rows)
    with pytest.raises(KnowledgeBaseError, match="unique across files"):
        pk.load_knowledge_base(priors_copy)


def test_cycle_in_cause_links(priors_copy):
    rows = read_rows(priors_copy / "cause_links.csv")
    header = rows[0]
    first = dict(zip(header, rows[1]))
    back = dict(first, parent=first["child"], child=first["parent"], kind="odds_ratio",
                odds_ratio="2", source="test")
    rows.append([back[c] for c in header])
    write_rows(priors_copy / "cause_links.csv", rows)
    with pytest.raises(KnowledgeBaseError, match="cycle") as info:
        pk.load_knowledge_base(priors_copy)
    message = problem(info.value, "cause_links.csv").message
    a, b = first["parent"], first["child"]
    assert f"{a} -> {b} -> {a}" in message or f"{b} -> {a} -> {b}" in message


def test_requires_link_with_ratio(priors_copy):
    links = pd.read_csv(priors_copy / "cause_links.csv", dtype=str, keep_default_na=False)
    index = int(np.flatnonzero(links["kind"] == "requires")[0])
    line = edit_cell(priors_copy, "cause_links", index, "odds_ratio", "3")
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert problem(info.value, "cause_links.csv").line == line


def test_exclusive_group_over_one(priors_copy):
    rows = read_rows(priors_copy / "risk_factors.csv")
    header = rows[0]
    for row in rows[1:]:
        if row[header.index("exclusive_group")]:
            row[header.index("prevalence")] = "0.7"
    write_rows(priors_copy / "risk_factors.csv", rows)
    with pytest.raises(KnowledgeBaseError, match="sum to"):
        pk.load_knowledge_base(priors_copy)


def test_all_problems_reported_at_once(priors_copy):
    edit_cell(priors_copy, "causes", 0, "prior", "x")
    edit_cell(priors_copy, "findings", 1, "leak", "2")
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    assert {p.file for p in info.value.problems} >= {"causes.csv", "findings.csv"}
    assert "2 problems" in str(info.value)


def test_excel_byte_order_mark_loads(priors_copy, kb):
    for path in priors_copy.glob("*.csv"):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    tuned = pk.load_knowledge_base(priors_copy)
    assert tuned.cause_ids == kb.cause_ids


def test_failed_load_changes_no_file(priors_copy):
    edit_cell(priors_copy, "causes", 2, "prior", "high")
    before = digest(priors_copy)
    with pytest.raises(KnowledgeBaseError):
        pk.load_knowledge_base(priors_copy)
    assert digest(priors_copy) == before


# -- saving ----------------------------------------------------------------------


def test_save_round_trip_gives_identical_answers(kb, tmp_path):
    kb.save(tmp_path / "copy")
    again = pk.load_knowledge_base(tmp_path / "copy")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(kb, name), getattr(again, name))
    case = {"lump_behind_knee": True, "fever": False, "age_over_50": True}
    a, b = pk.diagnose(case, kb=kb), pk.diagnose(case, kb=again)
    pd.testing.assert_frame_equal(a.ranking, b.ranking)
    assert a.triage == b.triage


def test_extra_columns_survive_a_round_trip(priors_copy, tmp_path):
    rows = read_rows(priors_copy / "causes.csv")
    rows[0].append("notes")
    for i, row in enumerate(rows[1:]):
        row.append(f"note {i}")
    write_rows(priors_copy / "causes.csv", rows)
    kb = pk.load_knowledge_base(priors_copy)
    kb.save(tmp_path / "out")
    assert read_rows(tmp_path / "out" / "causes.csv") == rows


def test_replace_validates(kb):
    causes = kb.causes.copy()
    causes.loc[0, "prior"] = 3.0
    with pytest.raises(KnowledgeBaseError, match="outside"):
        kb.replace(causes=causes)


# the factory makes a fresh folder for every example, so sharing it is safe
@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_malformed_edits_give_a_clear_error(priors_copy_factory, data):
    """Any bad cell anywhere gives a KnowledgeBaseError naming that file and line."""
    folder = priors_copy_factory()
    table = data.draw(st.sampled_from(sorted(TABLES)))
    spec = TABLES[table]
    numeric = [c.name for c in spec.columns if c.kind in ("probability", "threshold",
                                                          "odds_ratio")]
    choice = [c.name for c in spec.columns if c.kind in ("choice", "id", "ref")]
    column = data.draw(st.sampled_from(numeric + choice))
    bad = data.draw(
        st.sampled_from(["", "nan", "-1", "2", "1e400", "x1", "0..3"]) if column in numeric
        else st.sampled_from(["", "Not An Id", "9lives", "unknown_thing_xyz"]))
    if column == "id" and bad == "unknown_thing_xyz":
        bad = "Bad-Id"
    if column == "odds_ratio" and bad == "2":
        bad = "0"  # 2 is a valid odds ratio
    n_rows = len(read_rows(folder / spec.file)) - 1
    row = data.draw(st.integers(0, n_rows - 1))
    line = edit_cell(folder, table, row, column, bad)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(folder)
    assert any(p.file == spec.file and p.line == line for p in info.value.problems), (
        str(info.value))


@pytest.fixture
def priors_copy_factory(tmp_path_factory):
    import shutil

    def make():
        target = tmp_path_factory.mktemp("priors")
        shutil.copytree(pk.default_priors_path(), target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__init__.py", "__pycache__"))
        return target

    return make


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(random_kb=perturbed_kb(pk.load_knowledge_base()))
def test_save_load_round_trip_property(tmp_path_factory, random_kb):
    """Any valid knowledge base saves and loads back to identical tables and answers."""
    folder = tmp_path_factory.mktemp("saved")
    random_kb.save(folder)
    again = pk.load_knowledge_base(folder)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(random_kb, name), getattr(again, name))
    case = {"calf_swelling": True, "fever": False, "age_under_30": True}
    np.testing.assert_array_equal(pk.Model(random_kb).posterior(case).causes,
                                  pk.Model(again).posterior(case).causes)


# -- plausible ranges (low / high) --------------------------------------------------


def set_range(folder, table, row_index, low, high):
    """Give one row a range, adding the optional low/high columns when missing."""
    path = folder / f"{table}.csv"
    rows = read_rows(path)
    if "low" not in rows[0]:
        for r in rows:
            r += ["low", "high"] if r is rows[0] else ["", ""]
    rows[row_index + 1][rows[0].index("low")] = low
    rows[row_index + 1][rows[0].index("high")] = high
    write_rows(path, rows)
    return row_index + 2


def requires_row(folder):
    rows = read_rows(folder / "cause_links.csv")
    return [r[rows[0].index("kind")] for r in rows[1:]].index("requires")


@pytest.mark.parametrize(
    ("table", "low", "high", "column", "words"),
    [
        ("causes", "0.01", "", "high", "fill in both"),
        ("findings", "", "0.9", "low", "fill in both"),
        ("causes", "0.9", "0.95", "low", "must contain the value"),
        ("finding_links", "0.001", "0.002", "high", "must contain the value"),
        ("risk_effects", "0", "9", "low", "positive"),
        ("risk_factors", "0.01", "1.5", "high", "outside [0, 1]"),
        ("cause_links", "abc", "4", "low", "not a number"),
        ("risk_factors", "0.1", "0.9", "high", "exclusive group 'age_band'"),
        ("cause_links", "1", "4", "low", "a range needs a value"),
    ],
)
def test_bad_range_names_file_line_and_column(priors_copy, table, low, high, column, words):
    row_index = requires_row(priors_copy) if words == "a range needs a value" else 0
    line = set_range(priors_copy, table, row_index, low, high)
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(priors_copy)
    p = problem(info.value, f"{table}.csv")
    assert (p.line, p.column) == (line, column), str(info.value)
    assert words in p.message


def test_ranges_round_trip_and_empty_ones_are_not_written(priors_copy, tmp_path):
    set_range(priors_copy, "causes", 0, "0.05", "0.2")
    kb = pk.load_knowledge_base(priors_copy)
    assert kb.causes.loc[0, ["low", "high"]].tolist() == [0.05, 0.2]
    kb.save(tmp_path / "out")
    again = pk.load_knowledge_base(tmp_path / "out")
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(kb, name), getattr(again, name))
    # the tuner's column order is kept (set_range put low / high at the end)
    assert read_rows(tmp_path / "out" / "causes.csv")[0] == read_rows(
        priors_copy / "causes.csv")[0]
    for name in ("risk_factors", "causes", "risk_effects", "cause_links", "findings",
                 "finding_links"):
        header = read_rows(tmp_path / "out" / f"{name}.csv")[0]
        assert ("low" in header) == getattr(kb, name)["low"].notna().any(), name


