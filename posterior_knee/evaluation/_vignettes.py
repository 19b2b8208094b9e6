"""The vignette suite: published presentations of pain behind the knee, shipped as data."""

from __future__ import annotations

import functools
import hashlib
import io
import re
from importlib import resources

import pandas as pd

from ..errors import check_parameter

__all__ = ["vignettes", "split_of", "LEVELS", "SPLITS", "COLUMNS"]

LEVELS = ("self_care", "soon", "urgent", "emergency")
"""The triage levels, lowest first (``min_triage`` is one of them)."""

SPLITS = ("dev", "test")

COLUMNS = ("id", "split", "cause", "diagnosis_text", "min_triage", "triage_reason",
           "present", "absent", "unmapped", "tests", "age", "sex", "citation", "url",
           "kind", "quality", "mapping_notes")
"""The columns of :func:`vignettes`, in order."""

_DEV_CASE = re.compile(r"dev-D\d+")


def split_of(case_id: str) -> str:
    """The part of the suite a case belongs to: ``"dev"`` or ``"test"``.

    A fixed rule, written before any case was scored and never tuned: the ten cases
    the priors were first checked on (ids ``dev-D1`` .. ``dev-D10``) are ``dev``; any
    other case is ``dev`` when the SHA-256 of its id (UTF-8), read as a number, is
    even, and ``test`` when it is odd.

    >>> split_of("dev-D7"), split_of("a01"), split_of("a02")
    ('dev', 'dev', 'test')
    """
    if _DEV_CASE.fullmatch(case_id):
        return "dev"
    digest = hashlib.sha256(case_id.encode("utf-8")).digest()
    return "dev" if digest[-1] % 2 == 0 else "test"


def _ids(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


@functools.cache
def _read() -> pd.DataFrame:
    path = resources.files("posterior_knee.evaluation").joinpath("vignettes.csv")
    # decoded whole, as open(newline="") would read it: line endings left to the parser
    frame = pd.read_csv(io.StringIO(path.read_bytes().decode("utf-8")), dtype=str,
                        keep_default_na=False)
    frame["present"] = frame["present"].map(_ids)
    frame["absent"] = frame["absent"].map(_ids)
    return frame[list(COLUMNS)]


def vignettes(split: str | None = None) -> pd.DataFrame:
    """The vignette suite: published cases of pain behind the knee with their diagnosis.

    Each row is one published presentation (a case report, a teaching case or an exam
    vignette), mapped to the finding ids of the shipped knowledge base by written rules
    (``docs/vignettes.md``): what the source states at first presentation is present or
    absent; anything it does not state is unknown, never absent; tests and imaging are
    kept apart and never enter the findings. Score it with :func:`evaluate`.

    Parameters
    ----------
    split
        ``"dev"`` (the part you look at while modelling), ``"test"`` (scored only when a
        change is finished; record every test score in CHANGELOG.md), or None / ``"all"``
        for every case. The rule is :func:`split_of`.

    Returns
    -------
    pandas.DataFrame
        One row per case, columns in this order:

        - ``id``: the case id (``dev-D1`` .. ``dev-D10`` are the ten first dev cases;
          ``a..``, ``b..`` and ``c..`` the three collections the cases came from);
        - ``split``: ``"dev"`` or ``"test"``;
        - ``cause``: the confirmed diagnosis as a cause id (a few, such as
          ``cellulitis`` or ``acute_limb_ischaemia``, are not causes of the shipped
          knowledge base: :func:`evaluate` counts them as misses);
        - ``diagnosis_text``: the diagnosis in words;
        - ``min_triage``: the lowest acceptable triage level (one of
          ``self_care``, ``soon``, ``urgent``, ``emergency``), with ``triage_reason``;
        - ``present``, ``absent``: tuples of finding and risk-factor ids;
        - ``unmapped``: what the source states that no id expresses (text);
        - ``tests``: test, imaging and operative results (text; never findings);
        - ``age``, ``sex``: as the source gives them (text, possibly empty);
        - ``citation``, ``url``: where the case was published;
        - ``kind``: ``case_report``, ``teaching_case`` or ``exam_vignette``;
        - ``quality``: ``A`` (full presentation read, diagnosis confirmed), ``B``
          (most of it) or ``C`` (an abstract or excerpt; see ``mapping_notes``);
        - ``mapping_notes``: how doubtful statements were mapped.

        Empty text cells are empty strings.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> dev = pk.vignettes("dev")
    >>> sorted(set(dev["split"]))
    ['dev']
    >>> dev.set_index("id").loc["dev-D1", "present"][:2]
    ('age_under_30', 'plays_sport')
    """
    check_parameter(split is None or split in (*SPLITS, "all"), "split", "vignettes",
                    "'dev', 'test', 'all' or None", split)
    frame = _read()
    if split in SPLITS:
        frame = frame[frame["split"] == split]
    return frame.reset_index(drop=True).copy()
