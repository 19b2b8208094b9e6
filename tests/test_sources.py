"""evidence_table: every number in the CSV files, beside its own row's source cell."""

import math
import re

import pandas as pd
import pytest

import posterior_knee as pk
from posterior_knee.knowledge._schema import TABLES


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_number_appears_once_with_its_rows_source(priors_copy):
    """Read back independently from the raw CSV text, not through the loader: a
    numeric column is one whose non-empty cells are all numbers."""
    table = pk.evidence_table(pk.load_knowledge_base(priors_copy))
    expected = []
    for spec in TABLES.values():
        raw = pd.read_csv(priors_copy / spec.file, dtype=str, keep_default_na=False)
        numeric = [c for c in raw.columns
                   if raw[c].str.strip().ne("").any()
                   and all(is_number(v) for v in raw[c] if v.strip())]
        for record in raw.to_dict("records"):
            for column in numeric:
                if record[column].strip():
                    key = ":".join(record[k] for k in spec.key)
                    expected.append((spec.file, key, column, float(record[column]),
                                     record["source"]))
    got = list(table[["file", "id", "column", "value", "source"]].itertuples(
        index=False, name=None))
    assert sorted(got) == sorted(expected)
    assert len(got) == len(set((f, i, c) for f, i, c, _, _ in got))
    assert all(isinstance(v, float) and not math.isnan(v) for v in table["value"])


def test_tags_and_basis_follow_the_cell_text(kb):
    causes = kb.causes.copy()
    cells = {
        "calf_strain": ("expert estimate: about like X (Smith 2001 [P])", "P",
                        "expert estimate"),
        "hamstring_strain": ("Jones 2010 [S]; Brown 2012 [P]; Jones again [S]", "S P",
                             "published"),
        "leg_cramps": ("secondary page [S]", "S", "secondary"),
        "tumour": ("uncertain: not found [U]", "U", "uncertain"),
        "fracture": ("source document: hospital article", "", "source document"),
    }
    for cause, (source, _, _) in cells.items():
        causes.loc[causes["id"] == cause, "source"] = source
    table = pk.evidence_table(kb.replace(causes=causes)).query("file == 'causes.csv'")
    table = table.set_index("id")
    for cause, (_, tags, basis) in cells.items():
        assert (table.loc[cause, "tags"], table.loc[cause, "basis"]) == (tags, basis)


def test_a_tuned_number_shows_in_the_table(kb):
    causes = kb.causes.copy()
    causes.loc[causes["id"] == "dvt", ["prior", "source"]] = [0.2, "expert estimate: test"]
    table = pk.evidence_table(kb.replace(causes=causes))
    row = table[(table["file"] == "causes.csv") & (table["id"] == "dvt")]
    assert row[["value", "source"]].values.tolist() == [[0.2, "expert estimate: test"]]


def test_every_prior_computed_in_its_source_cell_still_holds(kb, model):
    """A baseline prior is chosen so that the average over risk factors hits a stated
    figure ("... (model gives 0.150 ...)"): that figure must still be what the model
    gives, or the cell describes numbers that have since moved."""
    averages = model.diagnose({}).ranking.set_index("cause")["prior"]
    checked = 0
    for cause, source in zip(kb.causes["id"], kb.causes["source"]):
        stated = re.search(r"model gives ([0-9]*\.[0-9]+)", source)
        if stated:
            checked += 1
            assert averages[cause] == pytest.approx(float(stated.group(1)), rel=0.05), cause
    assert checked >= 20  # the convention is followed, so the check has something to read
