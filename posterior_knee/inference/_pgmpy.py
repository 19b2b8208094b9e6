"""Everything that touches pgmpy, imported only when a network or the pgmpy engine is asked for.

pgmpy takes seconds to import (it pulls in scikit-learn and scipy), emits a
FutureWarning on import, draws progress bars by default and raises KeyError or
ValueError for bad evidence; none of that reaches posterior-knee users.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from ..errors import ImpossibleEvidenceError
from ._structure import STATES, Structure

# pgmpy's query(variables, joint=False) contracts to the joint table of all the queried
# variables before marginalising (2**causes entries): past this many causes, one query
# per cause instead
JOINT_QUERY_CAUSES = 20

# a finding with more linked causes is stored through parts (see build_network): a full
# table has 2**parents columns (13 causes: 8 192; 19 would be 524 288 and a 400 MB BIF).
# Findings within it keep their one table, as before parts existed (so pgmpy and the
# pyAgrum export in benchmarks/ see the same network there)
TABLE_PARENTS = 13
PART = "{finding}.part{k}"
"""The name of the k-th part node (k = 1, 2, ...) of a finding with more than
``TABLE_PARENTS`` linked causes: the '.' is never in a knowledge-base id."""


def _pgmpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy import config
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.inference import VariableElimination
        from pgmpy.models import DiscreteBayesianNetwork
    config.set_show_progress(False)
    return DiscreteBayesianNetwork, TabularCPD, VariableElimination


def build_network(structure: Structure, table_parents: int | None = TABLE_PARENTS,
                  equal_parts: bool = True):
    """The pgmpy ``DiscreteBayesianNetwork`` for a structure; passes ``check_model()``.

    Node names are the ids. Binary nodes have the states ("no", "yes"). An exclusive
    risk-factor group is one categorical node (states "other" and its member ids), and
    each member id is a binary child node that is "yes" exactly when the group is in
    that member's state, so evidence can name members directly.

    A finding linked to more than ``table_parents`` causes is stored exactly by
    divorcing (noisy-OR is an OR of independent causes): its causes are split into
    the fewest parts of at most ``table_parents``, of equal size, each part a hidden
    binary node ("yes" when one of its causes produces the finding; named by
    :data:`PART`), and the finding is "yes" when the leak or a part is. Every query of
    the ids answers as with one full table, whose size would double with each further
    cause. ``None`` stores every finding as one table (another export of the same
    network, for comparisons). ``equal_parts=False`` fills each part up to
    ``table_parents`` in turn, the last one smaller (the split before December 2026,
    kept as a further export for the benchmark's comparisons).
    """
    network_class, cpd_class, _ = _pgmpy()
    network = network_class()
    cpds = []
    for node in structure.risk_nodes:
        network.add_node(node.name)
        cpds.append(cpd_class(node.name, len(node.states), node.prior.reshape(-1, 1),
                              state_names={node.name: list(node.states)}))
        if node.states != STATES:
            for member, state in node.members.items():
                network.add_edge(node.name, member)
                yes = (np.arange(len(node.states)) == state).astype(float)
                cpds.append(cpd_class(
                    member, 2, np.vstack([1.0 - yes, yes]), evidence=[node.name],
                    evidence_card=[len(node.states)],
                    state_names={member: list(STATES), node.name: list(node.states)}))
    for cause in structure.causes:
        network.add_node(cause.name)
        network.add_edges_from((parent, cause.name) for parent in cause.parents)
        cpds.append(_binary_cpd(cpd_class, structure, cause.name, cause.parents,
                                cause.p_yes))
    for finding in structure.findings:
        parents, strengths = list(finding.parents), list(finding.strengths)
        if table_parents is not None and len(parents) > table_parents:
            parts = []
            # as few parts as the limit allows, of equal size (16 causes: 8 + 8, not
            # 13 + 3): the largest table halves with each cause it loses
            count = -(-len(parents) // table_parents)
            bounds = (np.linspace(0, len(parents), count + 1).round().astype(int)
                      if equal_parts else
                      np.minimum(np.arange(count + 1) * table_parents, len(parents)))
            for k, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:]), start=1):
                part = PART.format(finding=finding.name, k=k)
                chunk = slice(start, stop)
                network.add_node(part)
                network.add_edges_from((parent, part) for parent in parents[chunk])
                cpds.append(_binary_cpd(cpd_class, structure, part, parents[chunk],
                                        1.0 - _absent(0.0, strengths[chunk])))
                parts.append(part)
            parents, strengths = parts, [1.0] * len(parts)
        network.add_node(finding.name)
        network.add_edges_from((parent, finding.name) for parent in parents)
        cpds.append(_binary_cpd(cpd_class, structure, finding.name, parents,
                                1.0 - _absent(finding.leak, strengths)))
    network.add_cpds(*cpds)
    network.check_model()
    return network


def _absent(leak: float, strengths) -> np.ndarray:
    """Noisy-OR: P(no | parents) over the parents' states (one axis each, "no" first)."""
    absent = np.full([2] * len(strengths), 1.0 - leak)
    for axis, s in enumerate(strengths):
        shape = [1] * len(strengths)
        shape[axis] = 2
        absent = absent * np.array([1.0, 1.0 - s]).reshape(shape)
    return absent


def _binary_cpd(cpd_class, structure, name, parents, p_yes):
    p = np.asarray(p_yes, dtype=float).reshape(-1)  # C order: first parent slowest, as pgmpy
    cards = [structure.cardinality(parent) for parent in parents]
    names = {name: list(STATES)}
    for parent in parents:
        names[parent] = list(_states(structure, parent))
    return cpd_class(name, 2, np.vstack([1.0 - p, p]), evidence=list(parents) or None,
                     evidence_card=cards or None, state_names=names)


def _states(structure: Structure, name: str) -> tuple[str, ...]:
    for node in structure.risk_nodes:
        if node.name == name:
            return node.states
    return STATES


def query(network, structure: Structure, evidence: Mapping[str, bool]):
    """Cause and group posteriors by pgmpy's exact variable elimination."""
    from ._engine import Posterior

    _, _, elimination = _pgmpy()
    infer = elimination(network)
    states = {name: STATES[int(value)] for name, value in evidence.items()}
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if len(structure.cause_ids) <= JOINT_QUERY_CAUSES:
                marginals = infer.query(list(structure.cause_ids), evidence=states,
                                        joint=False, show_progress=False)
            else:  # pgmpy 1.1 builds the joint table of the queried variables first
                marginals = {c: infer.query([c], evidence=states, show_progress=False)
                             for c in structure.cause_ids}
            causes = np.array([
                marginals[c].get_value(**{c: "yes"}) for c in structure.cause_ids])
            groups = []
            for members in structure.groups.values():
                joint = infer.query(list(members), evidence=states, joint=True,
                                    show_progress=False)
                groups.append(1.0 - joint.get_value(**{c: "no" for c in members}))
            # P(evidence) too, which counterfactual scores need (a joint of the
            # evidence variables with nothing observed)
            # by the chain rule, one small query per reported id (a joint query of
            # all of them builds a table exponential in their number)
            total, given = 1.0, dict[str, str]()
            for name, state in states.items():
                total *= infer.query([name], evidence=given, show_progress=False
                                     ).get_value(**{name: state})
                given[name] = state
        except (ZeroDivisionError, FloatingPointError) as error:
            raise ImpossibleEvidenceError(
                "The evidence has probability zero under the model.") from error
    if not np.all(np.isfinite(causes)):
        raise ImpossibleEvidenceError(
            "The evidence has probability zero under the model (for example two "
            "exclusive age bands both reported present); check the reported values.")
    return Posterior(causes, np.array(groups), float(total))


def probability_yes(network, name: str, evidence: Mapping[str, bool]) -> float:
    """P(name = yes | evidence) by variable elimination."""
    _, _, elimination = _pgmpy()
    states = {k: STATES[int(v)] for k, v in evidence.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        factor = elimination(network).query([name], evidence=states, show_progress=False)
    return float(factor.get_value(**{name: "yes"}))
