"""How much one answer depends on each number in the CSV files, and how uncertain it is.

:func:`sensitivity` takes one case and one target (a cause, or ``group:<id>``) and
goes through every parameter of the knowledge base (prevalences, priors, odds ratios,
leaks, link strengths): the derivative of P(target | findings) with respect to it,
and P(target) with that parameter moved alone to each end of its plausible range
(the data of a tornado plot), with whether the top cause or the triage level would
change there. :func:`intervals` propagates the ranges given in the CSV files by
Monte Carlo to an interval around each cause's posterior. Point answers never change.
See ``docs/sensitivity.md`` for how to read both.

The whole sensitivity table comes from one forward and one backward pass through the
elimination plan of the case (reverse-mode differentiation of the network polynomial,
Darwiche 2003; :meth:`Parameters.sweep <posterior_knee.inference._parameters.Parameters.sweep>`):
every derivative is exact, and so is P(target) at each range end, since P(evidence) is
linear in each factor a number feeds. The flips need every cause's posterior at every
end; a second pass runs the rows of only the causes whose bounds there cannot decide a
flip (:func:`_causes_at_ends`). A flip of the top cause is read on the probabilities
(the most probable cause changes). The intervals recompute the posterior exactly on
a structure rebuilt with each draw (``_parameters.py``). A model built with
``engine="pgmpy"`` is answered the same way.
"""

from __future__ import annotations

import statistics
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd

from ..errors import UnknownIdError, check_int, check_parameter
from ..inference._parameters import Parameters, Sweep, posterior

if TYPE_CHECKING:
    from ..model import Model
    from ..result import Diagnosis

__all__ = ["sensitivity", "intervals", "MAX_DRAWS"]

_EPS = 1e-12  # where a probability of 0 or 1 is drawn on the log-odds scale
MAX_DRAWS = 10_000
"""The most Monte Carlo draws :func:`intervals` makes in one call. Each draw is one
exact query: about 2 ms on the shipped priors with a few findings present (so 20 s at
this bound), tens of milliseconds with a dozen present. A larger ``n`` is refused with
an error rather than run for an hour with no sign of life (10**6 draws did); a few
thousand draws already pin a 95 % bound far more finely than the ranges in the CSV
files are known."""

_cache: weakref.WeakKeyDictionary[Model, Parameters] = weakref.WeakKeyDictionary()


def _parameters(model: Model) -> Parameters:
    params = _cache.get(model)
    if params is None:
        params = _cache[model] = Parameters(model.kb, model.structure)
    return params


def _check_target(model: Model, target: object, function: str) -> None:
    """Raise unless ``target`` is a cause id or 'group:<id>'."""
    check_parameter(isinstance(target, str), "target", function,
                    "a cause id or 'group:<group id>' (str)", target)
    causes = model.structure.cause_ids
    groups = [f"group:{g}" for g in model.structure.groups]
    if target not in causes and target not in groups:
        raise UnknownIdError(str(target), "cause", [*causes, *groups],
                             "See dx.ranking['cause'], or use 'group:<id>' for a group.")


def sensitivity(model: Model, findings: Mapping[str, object],
                target: str | None = None, *,
                diagnosis: Diagnosis | None = None) -> pd.DataFrame:
    """One row per parameter: how P(target | findings) moves with it.

    Parameters
    ----------
    model
        The compiled model.
    findings
        As for :meth:`Model.diagnose`.
    target
        A cause id, or ``"group:<id>"`` for a cause group; None takes the top cause
        of the ranking.
    diagnosis
        ``model.diagnose(findings)`` when the caller already has it (as
        :meth:`Diagnosis.sensitivity <posterior_knee.Diagnosis.sensitivity>` does),
        so it is not made again; its ranking's top cause is the default target.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``id`` (the row's key, its key columns joined by ':', e.g.
        ``bakers_cyst:lump_behind_knee`` in finding_links.csv), ``column``, ``value``,
        ``derivative`` (d P(target) / d value), ``low`` and ``high`` (the plausible
        range used), ``p_low`` and ``p_high`` (P(target) with this parameter alone at
        low / high), ``flips_top`` and ``flips_triage`` (another cause becomes more
        probable than the most probable cause, or the triage level changes, at low or
        high) and ``range_source`` (``csv`` or ``default``), sorted by absolute
        derivative, largest first. ``attrs`` holds ``target``, ``probability`` (at
        the point values), ``top`` (the ranking's top cause), ``most_probable`` (the
        cause ``flips_top`` watches: the ranking by disablement can put a less
        probable cause first) and ``triage`` (the level).

    Examples
    --------
    >>> import posterior_knee as pk
    >>> table = pk.Model().sensitivity({"lump_behind_knee": True}, "bakers_cyst")
    >>> table.iloc[0][["file", "id", "column"]].tolist()
    ['causes.csv', 'popliteal_artery_aneurysm', 'prior']
    >>> bool(table.iloc[0]["derivative"] < 0)  # a rarer cause of a lump competes
    True
    >>> leak = table.set_index(["id", "column"]).loc[("lump_behind_knee", "leak")]
    >>> bool(leak["derivative"] < 0)  # and so does a lump with no modelled cause
    True
    """
    dx = model.diagnose(findings) if diagnosis is None else diagnosis
    evidence = dict(dx.findings)
    target = dx.top if target is None else target
    _check_target(model, target, "sensitivity")
    params = _parameters(model)
    values = params.values
    low, high, from_csv = params.ranges()
    causes = model.structure.cause_ids
    # a flip of the top cause is read on the probabilities: whether the first cause by
    # disablement changes would need the counterfactual scores at every end
    # the diagnosis keeps its ranking's columns in the structure's cause order
    probabilities = np.asarray(dx._ranking.columns["probability"], dtype=float)
    top = int(np.argmax(probabilities))
    level = dx.triage.level
    f0 = dx.probability(target)  # the posterior the diagnosis already holds
    ends = np.stack([low, high], axis=1)
    # only the numbers that can touch this case, at ends that differ from the value,
    # are read from the sweep; the others are exactly the point answer
    relevant = params.relevant(evidence)
    asked = relevant[:, None] & (ends != values[:, None])
    # rows: the evidence, the top cause forced present, and the target's own row (the
    # target forced present, or for a group its causes forced absent)
    clamps: list[dict[int, int]] = [{}, {top: 1}]
    if target in causes:
        i = causes.index(target)
        if i != top:
            clamps.append({i: 1})
        row = clamps.index({i: 1})
    else:
        members = model.structure.groups[target.removeprefix("group:")]
        clamps.append({causes.index(c): 0 for c in members})
        row = len(clamps) - 1
    # the rows _causes_at_ends most often needs, run now rather than in a second sweep
    clamps += [{i: 1} for i in _near(model, evidence, probabilities, top) if {i: 1} not in clamps]
    sweep = params.sweep(evidence, clamps, ends, wanted=[0, row], bounds=True)
    total, d_total = sweep.total[0], sweep.derivative[0]
    if target in causes:
        share = sweep.total[row] / total
        derivative = (sweep.derivative[1] - share * d_total) / total
    else:  # P(group) = 1 - P(none of it)
        none = sweep.total[row] / total
        derivative = -(sweep.derivative[1] - none * d_total) / total
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = sweep.at[row] / sweep.at[0]
        moved = moved if target in causes else 1.0 - moved
    p_ends = np.where(asked, moved, f0)
    derivative = np.where(relevant, derivative, 0.0)
    # the causes whose row (forced present) is in the sweep: cause -> row
    known = {next(iter(c)): r for r, c in enumerate(clamps) if list(c.values()) == [1]}
    at = _causes_at_ends(model, params, evidence, dx, probabilities, sweep, known, top,
                         ends, asked)
    others = np.delete(at, top, axis=0).max(axis=0)
    flips_top = asked & (others > at[top])
    present = [name for name, value in evidence.items() if value]
    where = np.flatnonzero(asked.ravel())
    levels = model.rules.levels(
        np.ones((len(where), len(present)), dtype=bool), present,
        dict(zip(causes, at.reshape(len(causes), -1)[:, where])))
    flips_triage = np.zeros(asked.size, dtype=bool)
    flips_triage[where] = levels != level.value
    flips_triage = flips_triage.reshape(asked.shape)
    # the frame built once, from its columns already in order (the same dtypes as
    # the parameter table's)
    order = np.argsort(-np.abs(derivative), kind="stable")
    frame = params.frame
    columns = {name: frame[name].array.take(order) for name in ("file", "id", "column")}
    columns.update(
        value=values[order], derivative=derivative[order], low=low[order], high=high[order],
        p_low=p_ends[order, 0], p_high=p_ends[order, 1],
        flips_top=np.any(flips_top, axis=1)[order],
        flips_triage=np.any(flips_triage, axis=1)[order],
        range_source=pd.array(np.where(from_csv, "csv", "default")[order],
                              dtype=frame["file"].dtype))
    table = pd.DataFrame(columns, copy=False)
    table.attrs.update(target=target, probability=f0, top=dx.top,
                       most_probable=causes[top], triage=level.value)
    return table


NEAR = 1.0
"""How close, as a natural log of the ratio, a cause's posterior must be to the most
probable cause's or to one of its own triage thresholds for its row (the cause forced
present) to join the first sweep of :func:`sensitivity`. :func:`_causes_at_ends` runs
the rows it needs in a second sweep, a backward pass of its own (2-6 ms), where a row
more in the first costs about 0.3 ms at a few present findings; the rows it needs are
those whose posterior an end of some range could carry past the top cause's or a
threshold. On 30 cases of ``benchmarks/bench.py`` at each m = 0, 2 and 4, 86-100 %
needed a second sweep; with the rows within a ratio e (5.0-5.3 a case) 2-6 did. The
table is the same either way: a row run exactly or bounded decides the same flips, and
the sweep's plan does not depend on its rows (``_gradient.PLAN_ROWS``)."""

NEAR_UP_TO = 6
"""Present findings up to which :func:`_near` adds rows. Past it a row costs more (up
to 0.7 ms at m = 12), there are more rows within the ratio (8-10 a case at m = 8-12)
and a quarter of the cases need no second sweep: ``python benchmarks/ab.py <checkout>
--what sensitivity`` gave 1.03, 0.98 and 0.91x at m = 8, 10 and 12 with the rows,
against 1.2-1.3x at m = 0-6."""


def _near(model: Model, evidence: Mapping[str, bool], probabilities: np.ndarray,
          top: int) -> list[int]:
    """The causes other than ``top`` whose posterior (``probabilities``, in the
    structure's cause order) lies within :data:`NEAR` of the top cause's or of one of
    its triage thresholds, on the log scale; none past :data:`NEAR_UP_TO` present
    findings."""
    if sum(bool(evidence.get(f.name)) for f in model.structure.findings) > NEAR_UP_TO:
        return []
    cause, probability, _ = _limits(model)
    with np.errstate(divide="ignore"):
        log_q = np.log(probabilities)
        near = log_q > log_q[top] - NEAR
        near[cause[np.abs(log_q[cause] - np.log(probability)) < NEAR]] = True
    near[top] = False
    return [int(i) for i in np.flatnonzero(near)]


def _limits(model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every triage threshold (a knowledge base has one at least), sorted by cause:
    its cause (index in the structure's order), probability and level rank."""
    causes = model.structure.cause_ids
    limits = sorted((causes.index(t.cause), t.probability, t.level.rank)
                    for t in model.rules.thresholds)
    return (np.array([i for i, _, _ in limits], dtype=np.intp),
            np.array([p for _, p, _ in limits], dtype=float),
            np.array([r for _, _, r in limits], dtype=np.intp))


MARGIN = 1e-6
"""Room left around the bounds of :func:`_causes_at_ends`, relative and absolute: the
diagnosis's posteriors are certain to 1e-10 of P(evidence) (``ERROR_LIMIT``, when the
factored engine answers), the sums of the sweep far better. A wider margin costs only
the rows of causes that close to a threshold or to the top cause."""


def _causes_at_ends(model: Model, params: Parameters, evidence: dict[str, bool],
                    dx: Diagnosis, probabilities: np.ndarray,
                    sweep: Sweep, known: dict[int, int], known_top: int, ends: np.ndarray,
                    asked: np.ndarray) -> np.ndarray:
    """(causes, parameters, ends): every cause's posterior with each number alone at
    each end, as far as the flips can tell.

    Cause i's row of the sweep (i forced present) costs a backward pass of its own.
    It is run only where it can decide a flip: P(i, e) moved is P(i, e) times an
    average of the ratios moved / point of the factor's entries (``Sweep.ratios``),
    and so is P(not i, e), while the two add up to P(e) moved (exact, in ``sweep``):
    with q_i the diagnosis's posterior (``probabilities``, in the structure's cause
    order), that bounds P(i | e) moved. Where that interval holds neither the top
    cause's moved posterior (exact: its row is in ``sweep``) nor any triage threshold
    of cause i, at any end asked, the comparisons come out the same at every point of
    it and the row is not needed; a point of the interval stands in for it. Nor is it
    where no value of it can change a flip: where another cause surely overtakes the
    top cause at an end of that number, or where the level surely reached there (red
    flags, thresholds surely passed) is already above the current one or above the
    threshold's own level. The other rows
    (``known``: cause -> row of ``sweep``, the top cause ``known_top`` among them)
    are exact. The top cause here is the most probable one.
    """
    q = probabilities[:, None, None]
    ratios = cast(np.ndarray, sweep.ratios)  # asked for (bounds=True)
    smallest, largest = ratios[..., 0], ratios[..., 1]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        point, moved = sweep.total[0], sweep.at[0]
        # P(i, e) moved and P(not i, e) moved each within their point value times the
        # smallest and the largest ratio, and they add up to P(e) moved
        low = np.maximum(q * point * smallest, moved - (1.0 - q) * point * largest)
        high = np.minimum(q * point * largest, moved - (1.0 - q) * point * smallest)
        low = low / moved * (1.0 - MARGIN) - MARGIN
        high = high / moved * (1.0 + MARGIN) + MARGIN
        # a point of the interval stands in where no row is run
        at = np.minimum(np.maximum(q * (point / moved), low), high)
        for i, row in known.items():
            at[i] = low[i] = high[i] = sweep.at[row] / sweep.at[0]
        need = [int(i) for i in np.flatnonzero(np.any(
            _open(model, evidence, dx, low, high, known_top, asked), axis=(1, 2)))
            if i not in known]
        if need:
            more = params.sweep(evidence, [{i: 1} for i in need], ends, wanted=[])
            at[need] = more.at / sweep.at[0]
    return at


def _open(model: Model, evidence: dict[str, bool], dx: Diagnosis, low: np.ndarray,
          high: np.ndarray, top: int, asked: np.ndarray) -> np.ndarray:
    """(causes, parameters, ends): where a cause's posterior, known to lie in [low,
    high], could still change ``flips_top`` or ``flips_triage`` (NaN bounds decide
    nothing)."""
    rules = model.rules
    present = [name for name, value in evidence.items() if value]
    # every threshold at once, grouped by cause
    cause, probability, rank = _limits(model)
    probability, rank = probability[:, None, None], rank[:, None, None]
    # the level each end surely reaches: the red flags (every present finding is in
    # every row), and the thresholds surely passed
    flags = rules.red_flag_levels(np.ones((1, len(present)), dtype=bool), present)[0]
    reached = np.maximum(flags, np.where(low[cause] >= probability, rank, flags).max(axis=0))
    surely_triage = np.any(asked & (reached > dx.triage.level.rank), axis=1)[:, None]
    # some cause surely above the top cause: the highest lower bound (NaN left out)
    # above its upper one; its own bounds are equal (its row is run)
    surely_top = (asked & (np.fmax.reduce(low, axis=0) > high[top])).any(axis=1)
    open_ = asked & ~(high < low[top]) & ~(low > high[top]) & ~surely_top[:, None]
    near = (asked & ~(high[cause] < probability) & ~(low[cause] > probability)
            & (rank > reached) & ~surely_triage)
    starts = np.flatnonzero(np.diff(cause, prepend=-1))
    open_[cause[starts]] |= np.maximum.reduceat(near.view(np.uint8), starts,
                                                axis=0).view(bool)
    return open_


def intervals(model: Model, findings: Mapping[str, object], n: int = 500, seed: int | None = 0,
              level: float = 0.95, *, diagnosis: Diagnosis | None = None) -> pd.DataFrame:
    """Monte Carlo credible intervals of each cause's posterior under the CSV ranges.

    Every parameter whose CSV row gives a range (``low`` < ``high``) is drawn ``n``
    times, independently: on the log-odds scale for probabilities and the log scale
    for odds ratios, from a normal distribution centred on the point value, with a
    different spread on each side so that ``low`` and ``high`` are its 2.5 % and
    97.5 % points. Rows without a range stay at their point value; with no range at
    all (or none that can touch this case) ``low`` and ``high`` equal the point answer
    exactly.

    Parameters
    ----------
    model, findings
        As for :meth:`Model.diagnose`.
    n
        Number of draws, from 2 to :data:`MAX_DRAWS` (10 000); an int or a numpy
        integer.
    seed
        Seed of the random generator (the same seed gives the same frame); None for a
        fresh one.
    level
        Probability mass of the equal-tailed interval, in (0, 1).
    diagnosis
        ``model.diagnose(findings)`` when the caller already has it; the rows follow
        its ranking.

    Returns
    -------
    pandas.DataFrame
        ``cause``, ``probability`` (the point answer, as in ``dx.ranking``), ``low``
        and ``high``, ordered as ``dx.ranking``.

    Examples
    --------
    >>> import posterior_knee as pk
    >>> dx = pk.diagnose({"calf_swelling": True, "recent_surgery": True})
    >>> table = dx.intervals(n=100, seed=1)
    >>> bool((table["low"] <= table["high"]).all())
    True
    """
    n = check_int(n, "n", "intervals", minimum=2, maximum=MAX_DRAWS,
                  expected=f"an int from 2 to {MAX_DRAWS} (MAX_DRAWS)")
    seed = check_int(seed, "seed", "intervals", minimum=0, none=True,
                     expected="None or an int >= 0")
    check_parameter(isinstance(level, (float, int)) and not isinstance(level, bool)
                    and 0.0 < level < 1.0, "level", "intervals",
                    "a probability in (0, 1), e.g. 0.95", level)
    dx = model.diagnose(findings) if diagnosis is None else diagnosis
    evidence = dict(dx.findings)
    params = _parameters(model)
    values = params.values
    low, high, from_csv = params.ranges()
    ranged = np.flatnonzero(from_csv & (low < high))
    # draw every ranged parameter, in a fixed order, so a seed means the same draws
    # whatever the case; only those that can touch this case are applied
    draws = _draw(values[ranged], low[ranged], high[ranged],
                  params.is_odds_ratio[ranged], n, seed)
    used = params.relevant(evidence)[ranged]
    ranked = dx.ranking[["cause", "probability"]].reset_index(drop=True)
    if not used.any():
        return ranked.assign(low=ranked["probability"], high=ranked["probability"])
    changed = ranged[used]
    samples = np.empty((n, len(model.structure.cause_ids)))
    current = values.copy()
    for k in range(n):
        current[changed] = draws[k, used]
        samples[k] = posterior(params.build(current, changed), evidence).causes
    tail = (1.0 - level) / 2.0
    bounds = np.quantile(samples, [tail, 1.0 - tail], axis=0)
    order = [model.structure.cause_ids.index(c) for c in ranked["cause"]]
    return ranked.assign(low=bounds[0, order], high=bounds[1, order])


def _draw(value: np.ndarray, low: np.ndarray, high: np.ndarray, odds_ratio: np.ndarray,
          n: int, seed: int | None) -> np.ndarray:
    """``n`` draws per parameter from a two-piece normal on the transformed scale."""
    z = np.random.default_rng(seed).standard_normal((n, len(value)))

    def forward(x):
        x = np.asarray(x, dtype=float)
        p = np.clip(x, _EPS, 1.0 - _EPS)
        return np.where(odds_ratio, np.log(np.where(odds_ratio, x, 1.0)),
                        np.log(p) - np.log1p(-p))

    centre = forward(value)
    # a range is read as the central 95 % of its distribution, whatever the level
    # asked of the intervals
    scale = statistics.NormalDist().inv_cdf(0.975)
    below, above = (centre - forward(low)) / scale, (forward(high) - centre) / scale
    u = centre + z * np.where(z < 0.0, below, above)
    return np.where(odds_ratio, np.exp(u), 1.0 / (1.0 + np.exp(-u)))
