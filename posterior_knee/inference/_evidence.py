"""Checking what a person reports: known ids, boolean values, no contradictions."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import EvidenceValueError, ImpossibleEvidenceError, UnknownIdError
from ._structure import Structure

_HINT = "See kb.questions() or run 'posterior-knee findings' for the valid ids."


def is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def canonical(evidence: Mapping[str, bool], order: Iterable[str]) -> dict[str, bool]:
    """``evidence`` with its keys in ``order`` (the knowledge base's id order).

    Floating-point products depend on the order of their factors, so evidence given
    in another key order would change the last bits of every probability (and could
    flip a triage threshold placed exactly at a posterior). Every engine therefore
    sees evidence in this one order, whatever order the caller used.
    """
    return {name: evidence[name] for name in order if name in evidence}


def normalise_evidence(findings: object, valid: Mapping[str, object],
                       structure: Structure, causes: tuple[str, ...]) -> dict[str, bool]:
    """Evidence as {id: bool} in the knowledge base's id order (``valid``'s order),
    unknown values (None / NaN) dropped.

    Raises UnknownIdError, EvidenceValueError or ImpossibleEvidenceError.
    """
    if not isinstance(findings, Mapping):
        raise EvidenceValueError(
            "The 'findings' parameter must be a mapping of id to True / False (a dict "
            f"such as {{'fever': True}}); got {type(findings).__name__} instead.")
    evidence: dict[str, bool] = {}
    for name, value in findings.items():
        if not isinstance(name, str):
            raise EvidenceValueError(
                f"Evidence ids must be strings; got {name!r} ({type(name).__name__}).")
        if name not in valid:
            if name in causes:
                raise UnknownIdError(name, "finding or risk-factor", valid,
                                     f"{name!r} is a cause, which the model infers; "
                                     "report findings and risk factors only.")
            raise UnknownIdError(name, "finding or risk-factor", valid, _HINT)
        if is_missing(value):
            continue
        if not isinstance(value, (bool, np.bool_)):
            raise EvidenceValueError(
                f"The value for {name!r} must be True (present), False (absent) or None "
                f"(unknown); got {value!r} ({type(value).__name__}) instead.")
        evidence[name] = bool(value)
    evidence = canonical(evidence, valid)
    _check_exclusive(evidence, structure)
    return evidence


def _check_exclusive(evidence: Mapping[str, bool], structure: Structure) -> None:
    for node in structure.risk_nodes:
        present = [m for m in node.members if evidence.get(m)]
        if len(node.members) > 1 and len(present) > 1:
            raise ImpossibleEvidenceError(
                f"{' and '.join(repr(p) for p in present)} cannot both be true: they are "
                f"exclusive states of {node.name!r}. Report at most one as True.")
