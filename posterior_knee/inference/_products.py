"""The products of the elimination engine: the OR rule on shared u variables, its
derivatives, and the contraction they run on.

Two factors that share a present finding's u variable combine by the OR rule
(:mod:`._elimination`): written with each shared u axis in three states, (off, on, off)
for one operand and (off, off + on, on) for the other, the rule is a pointwise product
followed by a fold (the last two states add up to "on"). The derivatives are the
transposes of those steps, and :func:`_or_product_grad_delta` holds a derivative along
each u axis as (at off, at on - at off), which keeps every term positive. Every
product goes through :func:`_contract`: ``numpy.einsum`` for small operands, one
batched matrix product for large ones.
"""

from __future__ import annotations

import math

import numpy as np

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

_TAKE_A = np.array([0, 1, 0])
_UNFOLD = np.array([0, 1, 1])
_ALL = slice(None)


def _at(axis: int, k) -> tuple:
    """Index of entry (or slice) k along a negative axis, whatever the leading axes.

    The products below read the same few indices thousands of times a query, so they
    take them from tables instead (``_AT[axis][k]`` for the entries 0, 1 and 2,
    ``_OFF_ON[axis]`` for the first two, ``_OFF_END[axis]`` for the first and the
    last of three), indexed by the negative axis itself."""
    return (Ellipsis, k) + (_ALL,) * (-axis - 1)


_MAX_AXES = 64  # numpy's limit on dimensions (32 before numpy 2)
_AT = [[_at(axis, k) for k in range(3)] for axis in range(-_MAX_AXES, 0)]
_OFF_ON = [_at(axis, slice(0, 2)) for axis in range(-_MAX_AXES, 0)]
_OFF_END = [_at(axis, slice(0, 3, 2)) for axis in range(-_MAX_AXES, 0)]


# operand entries per row from which a product goes through matmul: a batch's rows
# (a question ranking's some 70 answers) are then one batched matmul where einsum
# looped over many axes of two or three entries for every row (measured on the
# shipped priors with benchmarks/ab.py, the ranking of every question at 5-12 present
# findings 1.14-1.19x faster than with 1024; single diagnoses at 10-15, batches of
# diagnose_many, explain and the sensitivity table the same)
CONTRACT_SIZE = 64
# and each matrix product multiplies at least this many terms (measured: 1-32 alike,
# 128 slower; einsum beats a batch of many products of tiny matrices)
MATRIX_SIZE = 8
_RECIPES: dict[str, tuple] = {}  # subscripts -> how to write them as one matmul


def _contract(subscripts: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.einsum(subscripts, a, b)`` for the engine's products ("...ab,...bc->...ac",
    leading axes broadcast). Large operands go through one batched matmul instead:
    the axes of both sides and of the result, then those summed, each gathered into
    one (transposed copies). On the largest products of the shipped network at 12
    present findings that ran 2.3 times faster in all (some ops 10 times, a few
    slower) than einsum's loops over many axes of two or three entries; a diagnosis
    at 15 present findings about 25 % faster (threshold: see CONTRACT_SIZE). The choice
    depends on the shapes alone, so a given query always adds its terms in the same
    order, whatever the batch; it is worked out once per subscripts and shapes
    (:func:`_way`) and kept, as a query makes some hundreds of these products."""
    if a.size < CONTRACT_SIZE and b.size < CONTRACT_SIZE:  # so per row too
        return np.einsum(subscripts, a, b)
    key = (subscripts, a.shape, b.shape)
    try:
        way = _WAYS[key]
    except KeyError:
        if len(_WAYS) >= WAY_CACHE:  # bounded (batch sizes vary): start again
            _WAYS.clear()
        way = _WAYS[key] = _way(subscripts, a.shape, b.shape)
    if way is None:
        return np.einsum(subscripts, a, b)
    only_a, only_b, order_a, order_b, shape_a, shape_b, shape_out, back = way
    if only_a:  # summed on one side alone: sum it there first
        a = a.sum(axis=only_a)
    if only_b:
        b = b.sum(axis=only_b)
    out = np.matmul(a.transpose(order_a).reshape(shape_a),
                    b.transpose(order_b).reshape(shape_b))
    return out.reshape(shape_out).transpose(back)


WAY_CACHE = 65536  # (subscripts, shapes) whose way of contracting is kept
_WAYS: dict[tuple, tuple | None] = {}


def _way(subscripts: str, shape_a: tuple, shape_b: tuple) -> tuple | None:
    """How :func:`_contract` multiplies operands of these shapes: None for einsum, or
    the axes summed on one side alone, the transpositions and shapes of the batched
    matmul and those that take its result back to the subscripts' order."""
    recipe = _RECIPES.get(subscripts)
    if recipe is None:
        recipe = _RECIPES[subscripts] = _recipe(subscripts)
    sa, sb, only_a, only_b, order_a, order_b, both, left, summed, right, back, ka, kb = \
        recipe
    la, lb = len(shape_a) - len(sa), len(shape_b) - len(sb)
    size = dict(zip(sa, shape_a[la:]))
    size.update(zip(sb, shape_b[lb:]))
    n_both = math.prod(size[x] for x in both)
    n_sum = math.prod(size[x] for x in summed)
    # per row (leading axes left out, so a case answers the same in any batch): small
    # operands, or many tiny matrices, stay with einsum
    row_a, row_b = math.prod(shape_a[la:]), math.prod(shape_b[lb:])
    if (row_a < CONTRACT_SIZE and row_b < CONTRACT_SIZE) \
            or row_a * row_b < MATRIX_SIZE * n_both * n_both * n_sum:
        return None
    n_left = math.prod(size[x] for x in left)
    n_right = math.prod(size[x] for x in right)
    lead = np.broadcast_shapes(shape_a[:la], shape_b[:lb])
    return (tuple(la + k for k in only_a), tuple(lb + k for k in only_b),
            (*range(la), *(la + k for k in order_a)),
            (*range(lb), *(lb + k for k in order_b)),
            shape_a[:la] + (n_both, n_left, n_sum), shape_b[:lb] + (n_both, n_sum, n_right),
            lead + tuple(size[x] for x in both + left + right),
            (*range(len(lead)), *(len(lead) + k for k in back)))


def _recipe(subscripts: str) -> tuple:
    inputs, so = subscripts.replace("...", "").split("->")
    sa, sb = inputs.split(",")
    only_a = tuple(k for k, x in enumerate(sa) if x not in sb and x not in so)
    only_b = tuple(k for k, x in enumerate(sb) if x not in sa and x not in so)
    ka = "".join(x for k, x in enumerate(sa) if k not in only_a)  # a after its sums
    kb = "".join(x for k, x in enumerate(sb) if k not in only_b)
    both = "".join(x for x in so if x in ka and x in kb)
    left = "".join(x for x in so if x in ka and x not in kb)
    right = "".join(x for x in so if x in kb and x not in ka)
    summed = "".join(x for x in ka if x in kb and x not in so)
    order_a = tuple(ka.index(x) for x in both + left + summed)
    order_b = tuple(kb.index(x) for x in both + summed + right)
    back = tuple((both + left + right).index(x) for x in so)
    return (sa, sb, only_a, only_b, order_a, order_b, both, left, summed, right, back,
            ka, kb)


def _expand(a: np.ndarray, b: np.ndarray, shared):
    """The operands of an OR product with each shared u axis written as three states,
    (off, on, off) for a and (off, off + on, on) for b: their pointwise product is
    (a off b off, a on (b off or on), a off b on), and the last two add up to "on"."""
    return _expand_a(a, shared), _expand_b(b, shared)


def _expand_a(a: np.ndarray, shared) -> np.ndarray:
    for axis_a, _, _ in shared:
        a = a.take(_TAKE_A, axis=axis_a)
    return a


def _expand_b(b: np.ndarray, shared) -> np.ndarray:
    for _, axis_b, _ in shared:
        wide = b.take(_OFF_OFF_ON, axis=axis_b)
        on = _AT[axis_b][1]
        wide[on] += b[on]
        b = wide
    return b


_OFF_OFF_ON = np.array([0, 0, 1])


def _product_meta(sa_: tuple, sb_: tuple, so_: tuple, u0: int):
    """For a product of factors over scopes ``sa_`` and ``sb_`` into ``so_``: the
    (negative) axes of each shared u variable (variables from ``u0`` on) in a, in b
    and in the product, and the einsum subscripts of the product and of its two
    derivatives."""
    union = sa_ + tuple(x for x in sb_ if x not in sa_)
    letters = dict(zip(union, _LETTERS))
    sa = "".join(letters[x] for x in sa_)
    sb = "".join(letters[x] for x in sb_)
    so = "".join(letters[x] for x in so_)
    shared = [(sa_.index(x) - len(sa_), sb_.index(x) - len(sb_), so_.index(x) - len(so_))
              for x in sb_ if x in sa_ and x >= u0]
    # u axes of one operand only: a derivative with respect to the other sums over them
    only_a = [k - len(sa_) for k, x in enumerate(sa_) if x >= u0 and x not in sb_]
    only_b = [k - len(sb_) for k, x in enumerate(sb_) if x >= u0 and x not in sa_]
    return (shared, f"...{sa},...{sb}->...{so}", f"...{so},...{sb}->...{sa}",
            f"...{so},...{sa}->...{sb}", only_a, only_b)


def _or_product(a: np.ndarray, b: np.ndarray, shared, subscripts: str):
    """The product of two factors: pointwise on ordinary variables, the OR rule on the
    u variables they share (``shared``: their negative axes in a, in b and in the
    product). Returns the product and the expanded operands (for the backward pass)."""
    a, b = _expand(a, b, shared)
    out = _contract(subscripts, a, b)
    for _, _, axis in shared:  # on = a on alone, or b on (in place: out is new)
        at = _AT[axis]
        out[at[1]] += out[at[2]]
        out = out[_OFF_ON[axis]]
    return out, (a, b, shared)


def _or_product_grad(g: np.ndarray, expanded, subs_a: str, subs_b: str,
                     want_a: bool, want_b: bool):
    a, b, shared = expanded
    for _, _, axis in shared:  # transpose of the fold
        g = g.take(_UNFOLD, axis=axis)
    ga = gb = None
    if want_a:
        # per case even where a holds no case data (a group's switches): the
        # derivatives below it are read per case
        ga = _contract(subs_a, g, b)
        for axis_a, _, _ in shared:  # transpose of (off, on, off)
            at = _AT[axis_a]
            ga[at[0]] += ga[at[2]]
            ga = ga[_OFF_ON[axis_a]]
    if want_b:
        gb = _contract(subs_b, g, a)
        for _, axis_b, _ in shared:  # transpose of (off, off + on, on)
            at = _AT[axis_b]
            gb[at[0]] += gb[at[1]]
            gb[at[2]] += gb[at[1]]
            gb = gb[_OFF_END[axis_b]]
    return ga, gb


def _sum_expand(x: np.ndarray, axis: int) -> np.ndarray:
    """(off + on, on, off) along ``axis``."""
    wide = x.take(_ON_ON_OFF, axis=axis)
    off = _AT[axis][0]
    wide[off] += x[off]  # on + off: the same sum as off + on
    return wide


_ON_ON_OFF = np.array([1, 1, 0])


def _delta_basis(x: np.ndarray, axes) -> np.ndarray:
    """``x`` with each of ``axes`` read as (off + on, on): the basis in which a
    derivative held as (off, on - off) pairs with it to the same sum."""
    if axes:
        x = x.copy()
    for axis in axes:
        at = _AT[axis]
        x[at[0]] += x[at[1]]
    return x


def _or_product_grad_delta(g: np.ndarray, other_b: np.ndarray | None,
                           other_a: np.ndarray | None, meta):
    """:func:`_or_product_grad` with the derivative along each u axis held as
    (g0, d) = (at off, at on - at off). From C0 = A0 B0, C1 = A1 (B0 + B1) + A0 B1,
    on a shared u axis:

        gA0 = (B0 + B1) gC0 + B1 dC,    dA = B0 dC

    (and the same for B with A): all terms positive. Written as one pointwise
    product of (gC0, dC, dC) and (B0 + B1, B1, B0), whose first two entries add up
    to gA0. A u axis of b alone is summed against g's: b enters as (off + on, on).
    ``other_b`` and ``other_a`` are b and a so read (:func:`_delta_other`), or None
    where that derivative is not wanted."""
    shared, subs_a, subs_b = meta[3], meta[5], meta[6]
    for _, _, axis in shared:
        g = g.take(_UNFOLD, axis=axis)  # (g0, d, d)
    ga = _delta_side(g, other_b, shared, 0, subs_a) if other_b is not None else None
    gb = _delta_side(g, other_a, shared, 1, subs_b) if other_a is not None else None
    return ga, gb


def _delta_other(other: np.ndarray, only_other, shared, mine: int) -> np.ndarray:
    """The other operand as one operand's derivative reads it (``mine``: 0 for a, 1
    for b, its column in ``shared``): its own u axes in the basis (off + on, on), the
    shared ones as (off + on, on, off)."""
    other = _delta_basis(other, only_other)
    for axes in shared:
        other = _sum_expand(other, axes[1 - mine])
    return other


def _delta_side(g: np.ndarray, other: np.ndarray, shared, mine: int,
                subscripts: str) -> np.ndarray:
    """One operand's derivative in :func:`_or_product_grad_delta` (``mine``: 0 for a,
    1 for b, its column in ``shared``), from the other operand read by
    :func:`_delta_other`."""
    out = _contract(subscripts, g, other)
    for axes in shared:
        at = _AT[axes[mine]]
        out[at[0]] += out[at[1]]
        out = out[_OFF_END[axes[mine]]]
    return out
