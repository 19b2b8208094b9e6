"""How much one answer depends on each number in the CSV files, and how uncertain it is.

:func:`sensitivity` takes one case and one target (a cause, or ``group:<id>``) and
goes through every parameter of the knowledge base (prevalences, priors, odds ratios,
leaks, link strengths): the derivative of P(target | findings) with respect to it,
and P(target) with that parameter moved alone to each end of its plausible range
(the data of a tornado plot), with whether the top cause or the triage level would
change there. :func:`intervals` propagates the ranges given in the CSV files by
Monte Carlo to an interval around each cause's posterior. Point answers never change.
See ``docs/sensitivity.md`` for how to read both.

Every answer here is an exact recomputation with the numpy engines on a structure
rebuilt with the changed numbers (``_parameters.py``); a model built with
``engine="pgmpy"`` is answered the same way.
"""

from __future__ import annotations

import math
import statistics
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import UnknownIdError, check_int, check_parameter
from ..inference._engine import Posterior
from ..inference._parameters import Parameters, factored_answers, posterior

if TYPE_CHECKING:
    from ..model import Model

__all__ = ["sensitivity", "intervals", "MAX_DRAWS"]

STEP = 1e-4  # central-difference step on the log-odds (probabilities) or log (odds ratios)
EDGE_STEP = 1e-6  # one-sided step, in the value itself, for a probability of exactly 0 or 1
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


def _target_reader(model: Model, target: object, function: str):
    """A function Posterior -> P(target), for a cause id or 'group:<id>'."""
    check_parameter(isinstance(target, str), "target", function,
                    "a cause id or 'group:<group id>' (str)", target)
    causes = model.structure.cause_ids
    groups = [f"group:{g}" for g in model.structure.groups]
    if target in causes:
        i = causes.index(target)
        return lambda post: float(post.causes[i])
    if target in groups:
        j = groups.index(target)
        return lambda post: float(post.groups[j])
    raise UnknownIdError(str(target), "cause", [*causes, *groups],
                         "See dx.ranking['cause'], or use 'group:<id>' for a group.")


def sensitivity(model: Model, findings: Mapping[str, object],
                target: str | None = None) -> pd.DataFrame:
    """One row per parameter: how P(target | findings) moves with it.

    Parameters
    ----------
    model
        The compiled model.
    findings
        As for :meth:`Model.diagnose`.
    target
        A cause id, or ``"group:<id>"`` for a cause group; None takes the top cause.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``id`` (the row's key, its key columns joined by ':', e.g.
        ``bakers_cyst:lump_behind_knee`` in finding_links.csv), ``column``, ``value``,
        ``derivative`` (d P(target) / d value), ``low`` and ``high`` (the plausible
        range used), ``p_low`` and ``p_high`` (P(target) with this parameter alone at
        low / high), ``flips_top`` and ``flips_triage`` (another cause overtakes the
        top cause, or the triage level changes, at low or high) and ``range_source``
        (``csv`` or ``default``), sorted by absolute derivative, largest first.
        ``attrs`` holds ``target``, ``probability`` (at the point values), ``top`` and
        ``triage`` (the level).

    Examples
    --------
    >>> import posterior_knee as pk
    >>> table = pk.Model().sensitivity({"lump_behind_knee": True}, "bakers_cyst")
    >>> table.iloc[0][["file", "id", "column"]].tolist()
    ['findings.csv', 'lump_behind_knee', 'leak']
    >>> bool(table.iloc[0]["derivative"] < 0)  # a lump with no modelled cause competes
    True
    """
    dx = model.diagnose(findings)
    evidence = dict(dx.findings)
    target = dx.top if target is None else target
    read = _target_reader(model, target, "sensitivity")
    params = _parameters(model)
    values = params.values
    low, high, from_csv = params.ranges()
    present = [name for name, value in evidence.items() if value]
    top = model.structure.cause_ids.index(dx.top)
    level = dx.triage.level
    factored = factored_answers(params.structure, evidence)
    base = posterior(params.structure, evidence, factored)
    f0 = read(base)

    def at(i: int, value: float) -> Posterior:
        changed = values.copy()
        changed[i] = value
        return posterior(params.build(changed, [i]), evidence, factored)

    def flips(post: Posterior) -> tuple[bool, bool]:
        others = np.delete(post.causes, top)
        causes = dict(zip(model.structure.cause_ids, post.causes))
        return (bool(others.max() > post.causes[top]),
                model.rules.assess(present, causes).level != level)

    n = len(values)
    derivative = np.zeros(n)
    p_low, p_high = np.full(n, f0), np.full(n, f0)
    flips_top, flips_triage = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for i in np.flatnonzero(params.relevant(evidence)):
        for end, out in ((low[i], p_low), (high[i], p_high)):
            if end != values[i]:
                post = at(int(i), end)
                out[i] = read(post)
                top_changed, triage_changed = flips(post)
                flips_top[i] |= top_changed
                flips_triage[i] |= triage_changed
        slope = None
        if params.is_linear[i]:
            slope = _mobius_slope(values[i], (low[i], p_low[i]), (high[i], p_high[i]), f0)
        if slope is None:
            slope = _derivative(lambda v, i=i: read(at(i, v)), values[i],
                                bool(params.is_odds_ratio[i]), f0)
        derivative[i] = slope
    table = params.frame[["file", "id", "column", "value"]].assign(
        derivative=derivative, low=low, high=high, p_low=p_low, p_high=p_high,
        flips_top=flips_top, flips_triage=flips_triage,
        range_source=np.where(from_csv, "csv", "default"))
    order = np.argsort(-np.abs(derivative), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table.attrs.update(target=target, probability=read(model.posterior(evidence)),
                       top=dx.top, triage=level.value)
    return table


def _derivative(f, value: float, odds_ratio: bool, f0: float) -> float:
    """d f / d value by central differences on the log (odds ratio) or log-odds scale.

    The step is taken where f is smooth and the value stays in its domain; the chain
    rule brings it back to the value's own scale. A probability of exactly 0 or 1
    has no log-odds, so it gets a second-order one-sided difference pointing inside.
    """
    if odds_ratio:
        up, down = value * math.exp(STEP), value * math.exp(-STEP)
        return (f(up) - f(down)) / (2 * STEP) / value
    if 0.0 < value < 1.0:
        u = math.log(value) - math.log1p(-value)
        up, down = _expit(u + STEP), _expit(u - STEP)
        return (f(up) - f(down)) / (2 * STEP) / (value * (1.0 - value))
    step = EDGE_STEP if value == 0.0 else -EDGE_STEP
    return (-3.0 * f0 + 4.0 * f(value + step) - f(value + 2 * step)) / (2 * step)


def _mobius_slope(value: float, a: tuple[float, float], b: tuple[float, float],
                  f0: float) -> float | None:
    """The derivative at ``value`` of f(x) = (p + q x) / (r + s x) through (value, f0)
    and the points ``a`` and ``b`` on either side of it; None when not determined.

    A posterior is such a ratio in any number that enters the joint linearly, so the
    two range ends, computed anyway, give its derivative exactly: with
    g = f - f0 and d = x - value, 1 / g = 1 / (f'(value) d) + constant.
    """
    (xa, fa), (xb, fb) = a, b
    ga, gb, da, db = fa - f0, fb - f0, xa - value, xb - value
    # such an f is monotone, so ga and gb have opposite signs, as da < 0 < db do;
    # then both differences below add magnitudes (no cancellation). Anything else is
    # rounding noise around a flat f: leave it to the finite difference
    if not (da < 0.0 < db and ga * gb < 0.0):
        return None
    return (1.0 / da - 1.0 / db) / (1.0 / ga - 1.0 / gb)


def _expit(u: float) -> float:
    return 1.0 / (1.0 + math.exp(-u))


def intervals(model: Model, findings: Mapping[str, object], n: int = 500, seed: int | None = 0,
              level: float = 0.95) -> pd.DataFrame:
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
    dx = model.diagnose(findings)
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
