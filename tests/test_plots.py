"""Plots: the artists drawn match the data (bar extents, node colours), not pixels."""

import sys

import numpy as np
import pandas as pd
import pytest

import posterior_knee as pk
from posterior_knee import plots
from posterior_knee.errors import ParameterError, UnknownIdError

from .optional import require

require("matplotlib", "plots")
from matplotlib.colors import to_rgba  # noqa: E402

CASE = {"lump_behind_knee": True, "tightness_behind_knee": True, "fever": False}


def extents(container):
    return [(bar.get_x(), bar.get_x() + bar.get_width()) for bar in container]


@pytest.mark.parametrize("k", [None, 4])
def test_plot_posterior_draws_prior_and_posterior_per_cause(k):
    dx = pk.diagnose(CASE)
    ax = plots.plot_posterior(dx, k=k)
    shown = dx.ranking if k is None else dx.ranking.head(k)
    priors, posteriors = ax.containers
    assert [w for _, w in extents(priors)] == pytest.approx(shown["prior"].tolist())
    assert [w for _, w in extents(posteriors)] == pytest.approx(
        shown["probability"].tolist())
    assert all(bar.get_x() == 0 for bar in [*priors, *posteriors])
    # the most probable cause at the top, labelled with its label
    heights = [bar.get_y() for bar in posteriors]
    assert heights == sorted(heights, reverse=True)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(shown)
    for text, full in zip(labels, shown["label"]):
        assert_short_form(text, full, width=24, lines=2)
    assert priors[0].get_facecolor() != posteriors[0].get_facecolor()


def assert_short_form(text, full, width, lines):
    """``text`` is ``full`` made short: at most ``lines`` lines of ``width``
    characters, the start of the label (a trailing gloss in brackets may go)."""
    assert text and text.count("\n") < lines, text
    assert all(len(line) <= width for line in text.split("\n")), text
    start = " ".join(text.split()).removesuffix("\u2026").rstrip()
    assert full.startswith(start), (text, full)


def extent(artist):
    return artist.get_window_extent(artist.figure.canvas.get_renderer())


def test_plot_posterior_gives_the_bars_the_width():
    """Long labels once squeezed the bars into a sliver of the figure."""
    dx = pk.diagnose(CASE)
    ax = plots.plot_posterior(dx)
    figure = ax.figure
    figure.canvas.draw()
    box = figure.bbox
    assert extent(ax).width >= 0.55 * box.width
    for text in [*ax.get_yticklabels(), ax.title, ax.xaxis.label]:
        inside = extent(text)
        assert box.x0 <= inside.x0 and inside.x1 <= box.x1 + 1, text.get_text()


@pytest.mark.parametrize("k", [1, 3, None])
def test_the_legend_never_covers_a_bar_or_the_title(k):
    """With a few causes the last bar can reach the right edge, where the legend was
    (here the top cause is above 90 %)."""
    dx = pk.diagnose({**CASE, "age_over_50": True, "known_arthritis": True})
    assert dx.ranking["probability"].iloc[0] > 0.9
    ax = plots.plot_posterior(dx, k=k)
    ax.figure.canvas.draw()
    legend = extent(ax.get_legend())
    bars = [bar for container in ax.containers for bar in container]
    assert [bar for bar in bars if legend.overlaps(extent(bar))] == []
    assert not legend.overlaps(extent(ax.title))
    box = ax.figure.bbox
    assert box.x0 <= legend.x0 and legend.x1 <= box.x1 and legend.y1 <= box.y1


def test_plot_posterior_draws_on_a_given_axes():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    assert plots.plot_posterior(pk.diagnose({}), ax=ax) is ax


def test_draw_network_layers_and_evidence_colours(kb):
    evidence = {"fever": True, "calf_pain": False, "age_over_50": True,
                "lump_behind_knee": None}
    ax = plots.draw_network(pk.Model(kb), evidence)
    nodes = [*kb.risk_factors["id"], *kb.causes["id"], *kb.findings["id"]]
    collection = ax.collections[0]
    offsets = collection.get_offsets()
    assert len(offsets) == len(nodes)
    x = dict(zip(nodes, offsets[:, 0]))
    risk_x = {x[n] for n in kb.risk_factors["id"]}
    cause_x = {x[n] for n in kb.causes["id"]}
    finding_x = {x[n] for n in kb.findings["id"]}
    assert len(risk_x) == len(cause_x) == len(finding_x) == 1
    assert risk_x.pop() < cause_x.pop() < finding_x.pop()
    colour = dict(zip(nodes, map(tuple, collection.get_facecolors())))
    expected = {"fever": "present", "age_over_50": "present", "calf_pain": "absent",
                "lump_behind_knee": "unknown", "sudden_onset": "unknown",
                "plays_sport": "unknown"}
    for node, state in expected.items():
        assert colour[node] == to_rgba(plots.EVIDENCE_COLOURS[state]), node
    assert colour["dvt"] == to_rgba(plots.CAUSE_COLOUR)
    # one line per link in the CSV files
    edges = ax.collections[1].get_segments()
    assert len(edges) == len(kb.risk_effects) + len(kb.cause_links) + len(kb.finding_links)
    # the links of reported items are drawn again: fever's, calf pain's, the age band's
    links = (kb.finding_links["finding"].isin(["fever", "calf_pain"]).sum()
             + (kb.risk_effects["risk_factor"] == "age_over_50").sum())
    assert len(ax.collections[2].get_segments()) == links
    # only causes and reported items are labelled by default, each with its short label
    labels = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    assert set(labels) == set(kb.causes["id"]) | {"fever", "calf_pain", "age_over_50"}
    full = dict(zip(kb.causes["id"], kb.causes["label"])) | dict(
        zip(kb.findings["id"], kb.findings["label"]))
    for node, text in labels.items():
        if node in full:
            assert_short_form(text, full[node], width=34, lines=1)


def labels_overlap(ax):
    ax.figure.canvas.draw()
    boxes = [(t.get_gid(), extent(t)) for t in ax.texts if t.get_gid()]
    return [(a, b) for i, (a, box) in enumerate(boxes) for b, other in boxes[i + 1:]
            if box.overlaps(other)]


def test_no_two_labels_overlap_even_when_every_node_is_labelled(kb):
    ax = plots.draw_network(pk.Model(kb), CASE, labels="all")
    assert len([t for t in ax.texts if t.get_gid()]) == len(kb.evidence_ids) + len(kb.causes)
    assert labels_overlap(ax) == []
    # the legend is inside the figure, not far below it
    legend, figure = extent(ax.get_legend()), ax.figure.bbox
    assert figure.y0 <= legend.y0 and legend.y1 <= figure.y1


def test_a_diagnosis_is_drawn_as_its_reported_items_and_top_causes(kb):
    dx = pk.diagnose({**CASE, "age_over_50": True}, kb=kb)
    ax = plots.draw_network(dx, k=3)
    top = dx.ranking["cause"].head(3).tolist()
    reported = [n for n in [*kb.risk_factors["id"], *kb.findings["id"]] if n in dx.findings]
    offsets = ax.collections[0].get_offsets()
    assert len(offsets) == len(top) + len(reported)
    # the causes in ranking order, top first, each labelled with its probability
    cause_heights = [y for x, y in offsets if x == 1]
    assert cause_heights == sorted(cause_heights, reverse=True)
    labels = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    assert set(labels) == set(top) | set(reported)
    probability = dict(zip(dx.ranking["cause"], dx.ranking["probability"]))
    for cause in top:
        assert labels[cause].endswith(f"{probability[cause]:.0%}")
    # only the links among what is drawn
    shown = set(top) | set(reported)
    links = [(a, b) for a, b in zip(kb.finding_links["cause"], kb.finding_links["finding"])]
    links += list(zip(kb.risk_effects["risk_factor"], kb.risk_effects["cause"]))
    links += list(zip(kb.cause_links["parent"], kb.cause_links["child"]))
    assert len(ax.collections[1].get_segments()) == len(
        [1 for a, b in links if a in shown and b in shown])
    assert labels_overlap(ax) == []
    # a diagnosis brings its own findings
    with pytest.raises(ParameterError, match="'evidence' parameter of draw_network"):
        plots.draw_network(dx, {"fever": True})


def test_a_model_with_k_draws_the_same_focus_as_its_diagnosis(kb):
    model = pk.Model(kb)
    from_model = plots.draw_network(model, CASE, k=4)
    from_dx = plots.draw_network(model.diagnose(CASE), k=4)
    assert (from_model.collections[0].get_offsets().tolist()
            == from_dx.collections[0].get_offsets().tolist())
    assert ({t.get_gid() for t in from_model.texts}
            == {t.get_gid() for t in from_dx.texts})


def test_draw_network_can_label_everything_and_checks_the_evidence(kb):
    ax = plots.draw_network(pk.Model(kb), labels="all")
    assert len(ax.texts) == len(kb.evidence_ids) + len(kb.causes) + 3  # and the layers
    with pytest.raises(UnknownIdError, match="fever"):
        plots.draw_network(pk.Model(kb), {"fevr": True})


def tornado_frame(n=20, seed=7):
    """A hand-made table of the sensitivity contract's shape."""
    rng = np.random.default_rng(seed)
    baseline = 0.3
    p_low = baseline - rng.uniform(0, 0.2, n)
    p_high = baseline + rng.uniform(-0.05, 0.25, n)
    frame = pd.DataFrame({
        "file": rng.choice(["causes", "finding_links", "risk_effects"], n),
        "id": [f"row{i}" for i in range(n)],
        "column": rng.choice(["prior", "strength", "odds_ratio"], n),
        "value": rng.uniform(0, 1, n), "derivative": rng.normal(size=n),
        "low": rng.uniform(0, 0.5, n), "high": rng.uniform(0.5, 1, n),
        "p_low": p_low, "p_high": p_high,
        "flips_top": False, "flips_triage": False,
    })
    frame.attrs.update(target="dvt", probability=baseline)
    return frame


@pytest.mark.parametrize("k", [15, 3, 40])
def test_plot_tornado_shows_the_widest_rows_from_the_baseline(k):
    frame = tornado_frame()
    ax = plots.plot_tornado(frame, k=k)
    spread = (frame["p_high"] - frame["p_low"]).abs()
    order = sorted(range(len(frame)), key=lambda i: -spread[i])[:k]
    assert len(order) == min(k, len(frame))
    low, high = ax.containers
    assert len(low) == len(high) == len(order)
    baseline = frame.attrs["probability"]
    for bars, column in ((low, "p_low"), (high, "p_high")):
        for bar, i in zip(bars, order):
            ends = sorted([bar.get_x(), bar.get_x() + bar.get_width()])
            assert ends == pytest.approx(sorted([baseline, frame[column][i]]))
    rows = [high_bar.get_y() for high_bar in high]
    assert rows == sorted(rows, reverse=True)  # the widest at the top
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert [label.replace("\n", "") for label in labels] == [
        f"{frame['file'][i]}:{frame['id'][i]}:{frame['column'][i]}" for i in order]
    assert ax.lines[0].get_xdata()[0] == baseline
    assert ax.get_xlabel() == "P(dvt)"


def test_long_ids_leave_the_tornado_bars_the_width(model):
    """A link between two long ids once made labels of 80 characters: the bars were a
    sliver, the axis label was cut and the legend sat on the bars."""
    dx = model.diagnose({"calf_pain": True, "calf_swelling": True})
    frame = dx.sensitivity("chronic_exertional_compartment_syndrome")
    ax = plots.plot_tornado(frame, k=15)
    figure = ax.figure
    figure.canvas.draw()
    box = figure.bbox
    assert extent(ax).width >= 0.45 * box.width
    labels = ax.get_yticklabels()
    rows = frame.loc[(frame["p_high"] - frame["p_low"]).abs()
                     .sort_values(ascending=False, kind="stable").index[:15]]
    for text, (f, i, c) in zip(labels, zip(rows["file"], rows["id"], rows["column"])):
        full = f"{f}:{i}:{c}"
        assert text.get_text().replace("\n", "") == full
        # broken only after a colon, and no line longer than 40 unless it is one part
        for line in text.get_text().split("\n"):
            assert len(line) <= 40 or line.rstrip(":").count(":") == 0, line
    for text in [*labels, ax.xaxis.label]:
        inside = extent(text)
        assert box.x0 <= inside.x0 and inside.x1 <= box.x1 + 1, text.get_text()
    legend = extent(ax.get_legend())
    assert [b for c in ax.containers for b in c if legend.overlaps(extent(b))] == []
    assert legend.y1 <= box.y1


def test_plot_cohort_counts_levels_and_top_causes(model):
    rng = np.random.default_rng(3)
    ids = ["fever", "hot_painful_knee", "calf_swelling", "lump_behind_knee",
           "shortness_of_breath", "injury_twist", "plays_sport"]
    cases = pd.DataFrame(rng.choice([True, False, None], size=(40, len(ids)),
                                    p=[0.2, 0.3, 0.5]), columns=ids)
    scores = model.diagnose_many(cases)
    figure = plots.plot_cohort(scores)
    levels, causes = figure.axes
    counts = scores["triage"].value_counts()
    shown = dict(zip([t.get_text() for t in levels.get_yticklabels()],
                     [bar.get_width() for bar in levels.containers[0]]))
    assert set(shown) == {level.value for level in pk.TriageLevel}
    assert shown == {level: counts.get(level, 0) for level in shown}
    top = scores[list(model.structure.cause_ids)].idxmax(axis=1).value_counts()
    shown = dict(zip([t.get_text() for t in causes.get_yticklabels()],
                     [bar.get_width() for bar in causes.containers[0]]))
    assert shown == {cause: top[cause] for cause in shown}
    assert sum(shown.values()) == len(cases) or len(shown) == 10


def test_a_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "posterior-knee\[plots\]"'):
        plots.plot_posterior(pk.diagnose({}))
