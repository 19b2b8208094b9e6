"""Plots: prior against posterior, the network, a sensitivity tornado, a cohort.

Needs matplotlib, an optional extra: ``pip install "posterior-knee[plots]"``. It is
imported only when a function here is called. Every function draws on the Axes it is
given (or a new figure) and returns what it drew on, so a caller can restyle it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .clinical.triage import TriageLevel
from .errors import check_int, check_parameter
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
    check_int(k, "k", function, minimum=1, none=allow_none,
              expected="a positive integer" + (" or None" if allow_none else ""))


def plot_posterior(dx: Diagnosis, ax: Axes | None = None, k: int | None = None) -> Axes:
    """Prior against posterior for each cause, as pairs of horizontal bars.

    Parameters
    ----------
    dx
        A :class:`~posterior_knee.Diagnosis`.
    ax
        Where to draw; None makes a new figure.
    k
        Show only the ``k`` first causes of ``dx.ranking`` (None: all of them).

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers: ``ax.containers[0]`` the priors (grey),
        ``ax.containers[1]`` the posteriors (blue), first cause of the ranking at the top.
        The causes are labelled with the short form of their labels (a trailing gloss
        in brackets dropped, two lines at most), so that the bars keep the width; the
        legend sits above the bars, never on them.

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
    # short labels on at most two lines, so that the bars keep most of the width
    names = [_short(label, 24, lines=2) for label in top["label"]]
    lines = sum(name.count("\n") + 1 for name in names)
    ax = _axes(ax, "plot_posterior", figsize=(7, 0.2 * lines + 0.15 * len(top) + 1.3))
    y = np.arange(len(top))[::-1]  # the most probable cause at the top
    ax.barh(y + 0.2, top["prior"], height=0.4, color=_PRIOR_COLOUR, label="prior")
    ax.barh(y - 0.2, top["probability"], height=0.4, color=_POSTERIOR_COLOUR,
            label="posterior")
    ax.set_yticks(y, names, fontsize="small")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability (causes are not mutually exclusive)")
    ax.set_title(f"Triage: {dx.triage.level.value}. Not a substitute for a clinician.",
                 fontsize="small", loc="left")
    # above the bars, not on them: with a few causes the last bar can reach the right
    ax.legend(loc="lower right", bbox_to_anchor=(1, 1), ncol=2, fontsize="small",
              frameon=False, borderaxespad=0.2)
    return ax


def _short(label: str, width: int, lines: int = 1) -> str:
    """``label`` made short for a plot: a trailing parenthesis dropped (the label's
    gloss), wrapped on at most ``lines`` lines of at most ``width`` characters, and cut
    with an ellipsis if it is still longer."""
    text = re.sub(r"\s*\([^()]*\)\s*$", "", str(label)) or str(label)
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][:width - 1].rstrip() + "\u2026"
    return "\n".join(wrapped)


LAYERS = ("risk factors", "causes", "findings")


def _network(model: Model):
    """The graph to draw: evidence ids (risk factors, findings) and causes, in layers,
    each link weighted by its number (odds ratio or noisy-OR strength)."""
    import networkx as nx

    kb = model.kb
    graph = nx.DiGraph()
    for layer, ids in enumerate((kb.risk_factors["id"], kb.causes["id"], kb.findings["id"])):
        graph.add_nodes_from(ids, layer=layer)
    graph.add_edges_from(zip(kb.risk_effects["risk_factor"], kb.risk_effects["cause"]))
    graph.add_edges_from(zip(kb.cause_links["parent"], kb.cause_links["child"]))
    graph.add_edges_from(zip(kb.finding_links["cause"], kb.finding_links["finding"]))
    return graph


def _rows(graph, columns: list[list[str]]) -> dict[str, float]:
    """A height per node: each column spread over [0, 1] and ordered so that links
    cross as little as they can (causes keep their order, CSV or ranking; a risk
    factor or a finding sits at the mean height of the causes it is linked to)."""
    def spread(nodes):
        n = len(nodes)
        return {node: 0.5 if n == 1 else 1 - i / (n - 1) for i, node in enumerate(nodes)}

    height = spread(columns[1])
    for layer in (0, 2):
        def centre(node):
            linked = [height[c] for c in (*graph.predecessors(node), *graph.successors(node))
                      if c in height]
            return -np.mean(linked) if linked else 0.0

        ordered = sorted(columns[layer], key=centre)  # stable: ties keep CSV order
        height.update(spread(ordered))
    return height


def _link(start, end) -> np.ndarray:
    """The line of one link: straight between layers, an arc bulging to the left
    between two causes (a straight one would run along the column, hidden)."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    if start[0] != end[0]:
        return np.array([start, end])
    bend = np.array([start[0] - 0.1 - 0.3 * abs(start[1] - end[1]), (start[1] + end[1]) / 2])
    t = np.linspace(0, 1, 17)[:, None]
    return (1 - t) ** 2 * start + 2 * (1 - t) * t * bend + t ** 2 * end


def draw_network(model: Model | Diagnosis, evidence: Mapping[str, object] | None = None,
                 ax: Axes | None = None, labels: str = "evidence",
                 k: int | None = None) -> Axes:
    """Draw the network in three layers: risk factors, causes, findings.

    Risk factors and findings are coloured by the evidence (present, absent, or
    unknown: see :data:`EVIDENCE_COLOURS`); causes are orange. Labels are the short
    form of each item's label (a trailing gloss in brackets dropped): risk factors
    to the left of their node, causes and findings to the right, so no two overlap.
    Links are drawn faintly, and those of the reported items again, coloured by the
    answer (red: present, blue: absent).

    The whole network has nearly a hundred nodes and hundreds of links; to see one
    case, draw a :class:`~posterior_knee.Diagnosis` (or pass ``k``): only the items
    reported and the ``k`` top causes of the ranking are drawn, each cause labelled
    with its probability.

    Parameters
    ----------
    model
        A :class:`~posterior_knee.Model` (with ``evidence``), or a
        :class:`~posterior_knee.Diagnosis` (its model and findings are drawn).
    evidence
        Finding and risk-factor ids mapped to True / False / None, as for
        :func:`~posterior_knee.diagnose` (checked the same way). None for a diagnosis.
    ax
        Where to draw; None makes a new figure.
    labels
        ``"evidence"``: label the causes and the reported items only (readable);
        ``"all"``: label every node drawn.
    k
        Draw only the reported items and the ``k`` top causes. None: the whole
        network for a model, the top 5 causes for a diagnosis.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.collections[0]`` holds the nodes, in the order risk factors, causes,
        findings (each in CSV order, except the top causes: in ranking order, most
        probable at the top); ``ax.collections[1]`` every link between them,
        ``ax.collections[2]`` the links of the reported items again, coloured. Each
        label is a text whose ``get_gid()`` is the node's id.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> from posterior_knee.plots import draw_network
    >>> ax = draw_network(pk.Model(), {"fever": True})
    >>> kb = pk.Model().kb
    >>> len(ax.collections[0].get_offsets()) == len(kb.evidence_ids) + len(kb.cause_ids)
    True

    One case: the findings reported and the three top causes.

    >>> dx = pk.diagnose({"lump_behind_knee": True, "fever": False})
    >>> ax = draw_network(dx, k=3)
    >>> sorted(t.get_gid() for t in ax.texts if t.get_gid() in dx.findings)
    ['fever', 'lump_behind_knee']
    """
    from .model import Model

    if isinstance(model, Diagnosis):
        check_parameter(evidence is None, "evidence", "draw_network",
                        "None when drawing a Diagnosis (its findings are drawn)", evidence)
        dx = model
        model, evidence = dx.model, dx.findings
        k = 5 if k is None else k
    else:
        check_parameter(isinstance(model, Model), "model", "draw_network",
                        "a Model or a Diagnosis", model)
        dx = None
    check_parameter(labels in ("evidence", "all"), "labels", "draw_network",
                    "'evidence' or 'all'", labels)
    _check_k(k, "draw_network", allow_none=True)
    reported = model.evidence({} if evidence is None else evidence)
    graph = _network(model)
    kb = model.kb
    columns = [list(kb.risk_factors["id"]), list(kb.causes["id"]), list(kb.findings["id"])]
    probability = {}
    if k is not None:
        if dx is None:
            dx = model.diagnose(reported)
        top = list(dx.ranking["cause"].head(k))
        probability = dict(zip(dx.ranking["cause"], dx.ranking["probability"]))
        columns = [[n for n in columns[0] if n in reported], top,
                   [n for n in columns[2] if n in reported]]
    nodes = [n for column in columns for n in column]
    graph = graph.subgraph(nodes)
    height = _rows(graph, columns)
    focus = k is not None
    rows = max(len(column) for column in columns)
    size = (11, max(8, 0.19 * rows + 2)) if not focus else (11, max(3.5, 0.42 * rows + 1.8))
    ax = _axes(ax, "draw_network", figsize=size)
    position = {n: (layer, height[n]) for layer, column in enumerate(columns) for n in column}
    causes = set(model.structure.cause_ids)

    def colour(node):
        if node in causes:
            return CAUSE_COLOUR
        value = reported.get(node)
        state = "unknown" if value is None else "present" if value else "absent"
        return EVIDENCE_COLOURS[state]

    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    xy = np.array([position[n] for n in nodes]).reshape(-1, 2)
    ax.scatter(xy[:, 0], xy[:, 1], s=90 if focus else 40, c=[colour(n) for n in nodes],
               edgecolors="white", linewidths=0.5, zorder=3)
    edges = list(graph.edges)
    ax.add_collection(LineCollection([_link(position[a], position[b]) for a, b in edges],
                                     colors="#b3b6b7", linewidths=0.6 if focus else 0.3,
                                     alpha=0.8 if focus else 0.5, zorder=1))
    # the links of the reported items, drawn again on top and coloured by the answer
    strong = [(a, b) for a, b in edges if reported.keys() & {a, b}]
    answer = [reported[a] if a in reported else reported[b] for a, b in strong]
    ax.add_collection(LineCollection(
        [_link(position[a], position[b]) for a, b in strong], linewidths=1.2 if focus else 0.8,
        colors=[EVIDENCE_COLOURS["present" if v else "absent"] for v in answer],
        alpha=0.7, zorder=2))
    shown = nodes if labels == "all" else [n for n in nodes if n in causes or n in reported]
    label = dict(zip(kb.risk_factors["id"], kb.risk_factors["label"]))
    label.update(zip(kb.causes["id"], kb.causes["label"]))
    label.update(zip(kb.findings["id"], kb.findings["label"]))
    font = 9 if focus else 8
    offset = 0.035
    for node in shown:
        x, y = position[node]
        text = _short(label[node], 34)
        if node in probability:
            text += f"  {probability[node]:.0%}"
        left = x == 0
        ax.text(x - offset if left else x + offset, y, text, gid=node, fontsize=font,
                ha="right" if left else "left", va="center", zorder=4,
                bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "alpha": 0.85,
                      "edgecolor": "none"} if x == 1 else None)
    for layer, name in enumerate(LAYERS):
        ax.text(layer, 1.0, name, transform=ax.get_xaxis_transform(), ha="center",
                va="bottom", fontweight="bold")
    ax.set_xlim(-0.75, 2.75)
    margin = 0.6 / max(rows, 1) + 0.02
    ax.set_ylim(-margin - (0.12 if focus else 0.05), 1 + margin)
    handles = [Line2D([], [], marker="o", linestyle="", color=c, label=name)
               for name, c in [("cause", CAUSE_COLOUR), *EVIDENCE_COLOURS.items()]]
    ax.legend(handles=handles, loc="lower center", ncol=4, fontsize="small",
              frameon=False)
    if focus:
        ax.set_title(f"The {len(columns[1])} top causes and the {len(reported)} items "
                     "reported. Not a substitute for a clinician.", fontsize="small",
                     pad=18)
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
    ``p_high``. Rows are labelled ``file:id:column``, broken after a colon where that
    is longer than 40 characters; the legend sits above the bars.

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
    labels = [_wrap_parts(f"{f}:{i}:{c}", 40)
              for f, i, c in zip(top["file"], top["id"], top["column"])]
    lines = sum(label.count("\n") + 1 for label in labels)
    ax = _axes(ax, "plot_tornado", figsize=(8, 0.17 * lines + 0.2 * len(top) + 1.5))
    y = np.arange(len(top))[::-1]  # the widest row at the top
    for end, colour, name in (("p_low", "#5dade2", "number at its low end"),
                              ("p_high", "#e67e22", "number at its high end")):
        ax.barh(y, top[end].to_numpy(dtype=float) - baseline, left=baseline, height=0.6,
                color=colour, alpha=0.85, label=name)
    ax.axvline(baseline, color="black", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels, fontsize="small")
    target = frame.attrs.get("target")
    ax.set_xlabel(f"P({target})" if target else "probability")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1), ncol=2, fontsize="small",
              frameon=False, borderaxespad=0.2)
    return ax


def _wrap_parts(text: str, width: int) -> str:
    """``text`` broken after its colons into lines of at most ``width`` characters
    (a part longer than that keeps a line of its own): a link's id names two long ids,
    and on one line the labels would squeeze the bars into a sliver."""
    lines = [""]
    for part in re.findall(r"[^:]+:?|:", text):
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


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
