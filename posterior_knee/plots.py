"""Plots: prior against posterior, the network, a sensitivity tornado, a cohort.

Needs matplotlib, an optional extra: ``pip install "posterior-knee[plots]"``. It is
imported only when a function here is called. Every function draws on the Axes it is
given (or a new figure) and returns what it drew on, so a caller can restyle it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .clinical.triage import TriageLevel
from .errors import check_parameter
from .result import _LEVEL_COLOURS, _POSTERIOR_COLOUR, _PRIOR_COLOUR, Diagnosis

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .model import Model

__all__ = ["plot_posterior", "draw_network", "plot_tornado", "plot_cohort"]

EVIDENCE_COLOURS = {"present": "#c0392b", "absent": "#2471a3", "unknown": "#d5d8dc"}
"""Node colours of :func:`draw_network`: findings reported present, absent, or not at all."""
CAUSE_COLOUR = "#f5b041"
TORNADO_COLUMNS = ("file", "id", "column", "p_low", "p_high")


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(
            "Plotting needs matplotlib, an optional extra: "
            'pip install "posterior-knee[plots]"') from error
    return plt


def _axes(ax, function: str, **figure):
    if ax is None:  # constrained layout keeps long cause labels inside the figure
        return _pyplot().subplots(layout="constrained", **figure)[1]
    _pyplot()
    from matplotlib.axes import Axes

    check_parameter(isinstance(ax, Axes), "ax", function, "a matplotlib Axes or None", ax)
    return ax


def _check_k(k, function: str, allow_none: bool) -> None:
    ok = (k is None and allow_none) or (
        isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 1)
    check_parameter(ok, "k", function,
                    "a positive integer" + (" or None" if allow_none else ""), k)


def plot_posterior(dx: Diagnosis, ax: Axes | None = None, k: int | None = None) -> Axes:
    """Prior against posterior for each cause, as pairs of horizontal bars.

    Parameters
    ----------
    dx
        A :class:`~posterior_knee.Diagnosis`.
    ax
        Where to draw; None makes a new figure.
    k
        Show only the ``k`` most probable causes (None: all of them).

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers: ``ax.containers[0]`` the priors (grey),
        ``ax.containers[1]`` the posteriors (blue), most probable cause at the top.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> from posterior_knee.plots import plot_posterior
    >>> dx = pk.diagnose({"lump_behind_knee": True})
    >>> ax = plot_posterior(dx, k=5)
    >>> widths = [bar.get_width() for bar in ax.containers[1]]  # the posteriors
    >>> widths == dx.ranking["probability"].head(5).tolist()
    True
    """
    check_parameter(isinstance(dx, Diagnosis), "dx", "plot_posterior",
                    "a Diagnosis (from posterior_knee.diagnose)", dx)
    _check_k(k, "plot_posterior", allow_none=True)
    top = dx.ranking if k is None else dx.ranking.head(k)
    ax = _axes(ax, "plot_posterior", figsize=(7, 0.3 * len(top) + 1.2))
    y = np.arange(len(top))[::-1]  # the most probable cause at the top
    ax.barh(y + 0.2, top["prior"], height=0.4, color=_PRIOR_COLOUR, label="prior")
    ax.barh(y - 0.2, top["probability"], height=0.4, color=_POSTERIOR_COLOUR,
            label="posterior")
    ax.set_yticks(y, top["label"])
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability (causes are not mutually exclusive)")
    ax.set_title(f"Triage: {dx.triage.level.value}. Not a substitute for a clinician.",
                 fontsize="small")
    ax.legend(loc="lower right")
    return ax


def _network(model: Model):
    """The graph to draw: evidence ids (risk factors, findings) and causes, in layers."""
    import networkx as nx

    kb = model.kb
    graph = nx.DiGraph()
    for layer, ids in enumerate((kb.risk_factors["id"], kb.causes["id"], kb.findings["id"])):
        graph.add_nodes_from(ids, layer=layer)
    graph.add_edges_from(zip(kb.risk_effects["risk_factor"], kb.risk_effects["cause"]))
    graph.add_edges_from(zip(kb.cause_links["parent"], kb.cause_links["child"]))
    graph.add_edges_from(zip(kb.finding_links["cause"], kb.finding_links["finding"]))
    return graph


def draw_network(model: Model, evidence: Mapping[str, object] | None = None,
                 ax: Axes | None = None, labels: str = "evidence") -> Axes:
    """Draw the network in three layers: risk factors, causes, findings.

    Risk factors and findings are coloured by the evidence (present, absent, or
    unknown: see :data:`EVIDENCE_COLOURS`); causes are orange.

    Parameters
    ----------
    model
        A :class:`~posterior_knee.Model`.
    evidence
        Finding and risk-factor ids mapped to True / False / None, as for
        :func:`~posterior_knee.diagnose` (checked the same way).
    ax
        Where to draw; None makes a new figure.
    labels
        ``"evidence"``: label the causes and the reported items only (readable);
        ``"all"``: label every node.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` holds the nodes, in the order risk factors, causes,
        findings (each in CSV order); ``ax.collections[1]`` every link,
        ``ax.collections[2]`` the links of the reported items again, darker.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> from posterior_knee.plots import draw_network
    >>> ax = draw_network(pk.Model(), {"fever": True})
    >>> len(ax.collections[0].get_offsets()) == len(pk.Model().kb.evidence_ids) + 19
    True
    """
    from .model import Model

    check_parameter(isinstance(model, Model), "model", "draw_network", "a Model", model)
    check_parameter(labels in ("evidence", "all"), "labels", "draw_network",
                    "'evidence' or 'all'", labels)
    reported = model.evidence({} if evidence is None else evidence)
    import networkx as nx

    graph = _network(model)
    ax = _axes(ax, "draw_network", figsize=(10, 12))
    position = nx.multipartite_layout(graph, subset_key="layer")
    nodes = list(graph.nodes)
    causes = set(model.structure.cause_ids)

    def colour(node):
        if node in causes:
            return CAUSE_COLOUR
        state = {True: "present", False: "absent"}.get(reported.get(node), "unknown")
        return EVIDENCE_COLOURS[state]

    nx.draw_networkx_nodes(graph, position, nodelist=nodes, ax=ax, node_size=60,
                           node_color=[colour(n) for n in nodes])
    nx.draw_networkx_edges(graph, position, ax=ax, arrows=False, width=0.3,
                           edge_color="#999999", alpha=0.5)
    # the links of the reported items, drawn again on top so the eye can follow them
    nx.draw_networkx_edges(graph, position, ax=ax, arrows=False, width=0.8,
                           edge_color="#555555",
                           edgelist=[e for e in graph.edges if reported.keys() & set(e)])
    shown = nodes if labels == "all" else [n for n in nodes if n in causes or n in reported]
    nx.draw_networkx_labels(graph, position, labels={n: n for n in shown}, ax=ax,
                            font_size=7)
    for layer, name in enumerate(("risk factors", "causes", "findings")):
        x = np.mean([position[n][0] for n in nodes if graph.nodes[n]["layer"] == layer])
        ax.text(x, 1.02, name, transform=ax.get_xaxis_transform(), ha="center")
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], marker="o", linestyle="", color=c, label=name)
                       for name, c in [("cause", CAUSE_COLOUR), *EVIDENCE_COLOURS.items()]],
              loc="lower left", fontsize="small")
    ax.set_axis_off()
    return ax


def _check_tornado(frame) -> float:
    ok = isinstance(frame, pd.DataFrame) and all(c in frame for c in TORNADO_COLUMNS)
    check_parameter(ok, "frame", "plot_tornado",
                    "a sensitivity DataFrame with the columns " + ", ".join(TORNADO_COLUMNS),
                    frame if not isinstance(frame, pd.DataFrame) else list(frame.columns))
    baseline = frame.attrs.get("probability")
    check_parameter(isinstance(baseline, (float, int, np.floating)), "frame", "plot_tornado",
                    "a frame whose attrs['probability'] holds the baseline probability",
                    baseline)
    return float(baseline)


def plot_tornado(frame: pd.DataFrame, k: int = 15, ax: Axes | None = None) -> Axes:
    """A tornado chart of a sensitivity table: which numbers move the result most.

    For the ``k`` rows with the widest ``|p_high - p_low|`` (widest at the top), one
    bar runs from the baseline (``frame.attrs["probability"]``, the dashed line) to
    ``p_low`` (the number at the low end of its range) and one from the baseline to
    ``p_high``. Rows are labelled ``file:id:column``.

    Parameters
    ----------
    frame
        A sensitivity table: columns ``file``, ``id``, ``column``, ``p_low``,
        ``p_high`` (others are ignored); ``attrs["probability"]`` the baseline and,
        optionally, ``attrs["target"]`` what the probability is of.
    k
        How many rows to show.
    ax
        Where to draw; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.containers[0]`` the bars to ``p_low``, ``ax.containers[1]`` those to
        ``p_high``, both widest row first.

    Examples
    --------
    >>> import pandas as pd
    >>> from posterior_knee.plots import plot_tornado
    >>> frame = pd.DataFrame({"file": ["causes", "causes"], "id": ["dvt", "tumour"],
    ...                       "column": ["prior", "prior"], "p_low": [0.05, 0.09],
    ...                       "p_high": [0.2, 0.11]})
    >>> frame.attrs.update(target="dvt", probability=0.1)
    >>> ax = plot_tornado(frame)
    >>> [round(float(bar.get_x() + bar.get_width()), 2) for bar in ax.containers[1]]
    [0.2, 0.11]
    """
    baseline = _check_tornado(frame)
    _check_k(k, "plot_tornado", allow_none=False)
    spread = (frame["p_high"] - frame["p_low"]).abs()
    top = frame.loc[spread.sort_values(ascending=False, kind="stable").index[:k]]
    ax = _axes(ax, "plot_tornado", figsize=(8, 0.35 * len(top) + 1.4))
    y = np.arange(len(top))[::-1]  # the widest row at the top
    for end, colour, name in (("p_low", "#5dade2", "number at its low end"),
                              ("p_high", "#e67e22", "number at its high end")):
        ax.barh(y, top[end].to_numpy(dtype=float) - baseline, left=baseline, height=0.6,
                color=colour, alpha=0.85, label=name)
    ax.axvline(baseline, color="black", linestyle="--", linewidth=1)
    labels = [f"{f}:{i}:{c}" for f, i, c in zip(top["file"], top["id"], top["column"])]
    ax.set_yticks(y, labels)
    target = frame.attrs.get("target")
    ax.set_xlabel(f"P({target})" if target else "probability")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_cohort(scores: pd.DataFrame, axes=None, k: int = 10) -> Figure:
    """Summarise scored cases: how many at each triage level, and the top causes.

    Parameters
    ----------
    scores
        The output of :meth:`~posterior_knee.Model.diagnose_many` (cause columns,
        ``group:<id>`` columns and ``triage``).
    axes
        Two matplotlib Axes (levels, top causes); None makes a new figure.
    k
        Show the ``k`` causes that are most often the top cause.

    Returns
    -------
    matplotlib.figure.Figure
        Left: cases per triage level (every level, most serious first, coloured as
        in the HTML view). Right: how often each cause is the most probable one.

    Examples
    --------
    >>> import pandas as pd, posterior_knee as pk
    >>> from posterior_knee.plots import plot_cohort
    >>> cases = pd.DataFrame({"fever": [True, False], "calf_pain": [None, True]})
    >>> figure = plot_cohort(pk.Model().diagnose_many(cases))
    >>> int(sum(bar.get_width() for bar in figure.axes[0].containers[0]))  # cases
    2
    """
    ok = isinstance(scores, pd.DataFrame) and "triage" in scores
    check_parameter(ok, "scores", "plot_cohort",
                    "the DataFrame from Model.diagnose_many (with a 'triage' column)",
                    scores if not isinstance(scores, pd.DataFrame) else list(scores.columns))
    _check_k(k, "plot_cohort", allow_none=False)
    if axes is None:
        figure, axes = _pyplot().subplots(1, 2, figsize=(11, 4), layout="constrained",
                                          gridspec_kw={"width_ratios": [1, 1.6]})
    else:
        ok = isinstance(axes, (list, tuple, np.ndarray)) and len(axes) == 2
        check_parameter(ok, "axes", "plot_cohort", "two Axes or None", axes)
        figure = axes[0].figure
    levels = list(reversed(TriageLevel))  # most serious first
    counts = scores["triage"].value_counts().reindex([lv.value for lv in levels],
                                                     fill_value=0)
    y = np.arange(len(levels))[::-1]
    axes[0].barh(y, counts.to_numpy(dtype=float),
                 color=[_LEVEL_COLOURS[lv] for lv in levels])
    axes[0].set_yticks(y, counts.index)
    axes[0].set_xlabel("cases")
    axes[0].set_title("Triage level")
    causes = [c for c in scores.columns if c != "triage" and not str(c).startswith("group:")]
    top = scores[causes].astype(float).idxmax(axis=1).value_counts().head(k)
    y = np.arange(len(top))[::-1]
    axes[1].barh(y, top.to_numpy(dtype=float), color=_POSTERIOR_COLOUR)
    axes[1].set_yticks(y, top.index)
    axes[1].set_xlabel("cases where it is the most probable cause")
    axes[1].set_title("Top cause")
    figure.suptitle(f"{len(scores)} cases. Not a substitute for a clinician.",
                    fontsize="small")
    return figure
