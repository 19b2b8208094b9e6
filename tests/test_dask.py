"""The docs/cohorts.md recipe: a cohort scored with Dask DataFrame map_partitions.

Needs the optional extra ``pip install "posterior-knee[dask]"``. Skipped where Dask is
missing, except in CI (the environment variable CI set), where a missing Dask fails.
"""

import os

import numpy as np
import pandas as pd
import pytest

import posterior_knee as pk

if os.environ.get("CI"):
    import dask.dataframe as dd
else:
    dd = pytest.importorskip("dask.dataframe", reason='needs "posterior-knee[dask]"')


def cohort(n: int, seed: int) -> pd.DataFrame:
    """Random cases as nullable-boolean columns, with a non-default index."""
    kb = pk.load_knowledge_base()
    ids = [i for i in kb.evidence_ids if not i.startswith("age_")] + ["age_over_50"]
    rng = np.random.default_rng(seed)
    values = rng.choice(np.array([True, False, None], dtype=object), size=(n, len(ids)),
                        p=[0.06, 0.08, 0.86])
    frame = pd.DataFrame(values, columns=ids, index=[f"patient-{i}" for i in range(n)])
    return frame.astype("boolean")


@pytest.mark.parametrize("scheduler", ["synchronous", "threads", "processes"])
def test_map_partitions_equals_diagnose_many(model, scheduler):
    frame = cohort(40, seed=4)
    ddf = dd.from_pandas(frame, npartitions=4, sort=False)
    meta = model.diagnose_many(frame.iloc[:0])  # the output's columns and dtypes
    scores = ddf.map_partitions(model.diagnose_many, meta=meta).compute(
        scheduler=scheduler)
    # Dask may store the index as its own string dtype: compare labels and values
    pd.testing.assert_frame_equal(scores, model.diagnose_many(frame),
                                  check_index_type=False)
    assert list(scores.index) == list(frame.index)


def test_bad_rows_are_marked_per_partition(model):
    frame = cohort(12, seed=5)
    frame["age_under_30"] = pd.array([None] * 12, dtype="boolean")
    frame.loc["patient-7", ["age_under_30", "age_over_50"]] = True  # exclusive bands
    ddf = dd.from_pandas(frame, npartitions=3, sort=False)
    meta = model.diagnose_many(frame.iloc[:0], errors="mark")
    scores = ddf.map_partitions(model.diagnose_many, errors="mark", meta=meta).compute(
        scheduler="synchronous")
    assert scores["error"].notna().tolist() == [i == "patient-7" for i in frame.index]
    assert np.isnan(scores.loc["patient-7", "dvt"])
