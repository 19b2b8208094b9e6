"""Reading one answer: a value from a program or a file, or a reply a person types.

``diagnose`` takes True, False or missing (None, NaN, pd.NA) and nothing else. An
interview also takes what a person types or writes in an answers file: ``yes`` /
``no`` / ``don't know`` and their short forms. Both read ids with the same rules
(:func:`._evidence.normalise_evidence`); this module adds only the replies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from ..errors import EvidenceValueError, did_you_mean
from ._evidence import is_missing

__all__ = ["REPLIES", "answer_value", "normalise_reply", "parse_reply"]

REPLIES: Mapping[str, bool | None] = MappingProxyType({
    "y": True, "yes": True,
    "n": False, "no": False,
    "d": None, "dk": None, "?": None, "don't know": None, "dont know": None,
    "do not know": None, "not sure": None, "unsure": None,
})
"""Every reply understood, after :func:`normalise_reply`: True (yes), False (no) or
None (don't know)."""

# typographic apostrophes and look-alikes (phones and word processors put these in
# "don't"); all read as the plain one
_APOSTROPHES = re.compile("[\u2018\u2019\u201b\u02bc\u02b9\u0060\u00b4\u2032\uff07]")

REPLY_HINT = "yes (y), no (n) or don't know (d, not sure, ?)"


def normalise_reply(text: str) -> str:
    """Lower case, plain apostrophes, single spaces, no spaces at either end.

    >>> normalise_reply("  Don\u2019t   KNOW ")
    "don't know"
    """
    return " ".join(_APOSTROPHES.sub("'", text).casefold().split())


def parse_reply(text: str, name: str | None = None) -> bool | None:
    """A typed reply as True (yes), False (no) or None (don't know).

    Raises EvidenceValueError naming ``name`` (the id asked about, if given) and the
    closest reply when ``text`` is none of :data:`REPLIES`.

    >>> parse_reply("Y"), parse_reply("no"), parse_reply("don\u2019t know")
    (True, False, None)
    """
    key = normalise_reply(text)
    if key in REPLIES:
        return REPLIES[key]
    about = f" for {name!r}" if name is not None else ""
    raise EvidenceValueError(
        f"The answer{about} must be {REPLY_HINT}; got {text!r} instead."
        + did_you_mean(key, REPLIES))


def answer_value(name: str, value: object) -> bool | None:
    """One answer as True, False or None (don't know), or EvidenceValueError.

    True / False (numpy booleans too) are kept; None, NaN and pd.NA mean don't
    know, as they do for ``diagnose``; a string is read as a typed reply. Numbers
    (1, 0) are refused as ``diagnose`` refuses them: 1 could be a count or a score.

    >>> answer_value("fever", float("nan")) is None
    True
    >>> answer_value("fever", "Yes")
    True
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if is_missing(value):
        return None
    if isinstance(value, str):
        return parse_reply(value, name)
    raise EvidenceValueError(
        f"The value for {name!r} must be True (present), False (absent) or None "
        f"(unknown), or a reply: {REPLY_HINT}; got {value!r} ({type(value).__name__}) "
        "instead.")
