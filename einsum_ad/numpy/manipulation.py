"""Manipulation functions beyond reshaping and joining: broadcasting several arrays,
``concat``, ``flip``, ``roll``, ``repeat``, ``tile``, ``unstack``, ``diff`` and ``take``.

The array API standard's signatures (``x`` positional-only, keyword arguments after it),
with numpy's argument orders and extras beside them where they differ (``diff``'s
positional ``n, axis``; ``take``'s ``out`` and ``mode``; ``axis=None`` flattening in
``roll``, ``repeat`` and ``take``). ``flip`` and ``roll`` are primitives
(``rules/permutation.py``: the transpose of each is the inverse permutation); the others
are reshapes, broadcasts, slices, concatenations and gathers, which differentiate with
their own rules: ``tile`` and ``repeat`` by a count sum their derivatives over the copies
(one broadcast undone in the backward pass's ``fit``), a gather's derivative scatter-adds.
"""

from __future__ import annotations

import operator
from math import prod as _size

from .. import backend as _backend
from .. import rules
from ..core import unwrap
from ..rules import flip_p, getitem_p, reshape_p, roll_p
from ._args import (
    _axis,
    _backend_of,
    _broadcast,
    _check_operand,
    _finish,
    _operands,
    normalize_axes,
    store_out,
)
from .structure import _index_array, _int_tuple, concatenate

_of, _kind = _backend.of, _backend.kind

__all__ = ["broadcast_arrays", "concat", "flip", "roll", "repeat", "tile", "unstack", "diff",
           "take"]


def _part(x, axis, lo, hi):
    """``x[..., lo:hi, ...]`` along ``axis`` (one indexing node on traced values)."""
    return getitem_p(x, index=(slice(None),) * axis + (slice(lo, hi), Ellipsis))


def gather_along(x, idx, axis):
    """``x`` indexed along ``axis`` by the integer array ``idx`` (of ``x``'s backend): the
    result has ``idx``'s axes in place of ``axis``. One indexing node whose index is made
    of integer arrays only (the standard allows no mix of slices and arrays), so its
    derivative scatter-adds: repeated positions accumulate."""
    bk = _backend_of(x)
    dev = bk.device(unwrap(x))
    k, nd = len(idx.shape), x.ndim
    out_nd = nd - 1 + k
    index = []
    for d in range(nd):
        if d == axis:
            shape = [1] * out_nd
            shape[axis:axis + k] = idx.shape
            index.append(bk.reshape(bk.astype(idx, bk.index_dtype), tuple(shape)))
            continue
        pos = d if d < axis else d - 1 + k
        shape = [1] * out_nd
        shape[pos] = x.shape[d]
        index.append(bk.reshape(bk.arange(x.shape[d], dtype=bk.index_dtype, device=dev),
                                tuple(shape)))
    return getitem_p(x, index=tuple(index))


# ---------------------------------------------------------------------------- broadcast


def broadcast_arrays(*arrays):
    """The arrays broadcast against each other (numpy's rules), as a tuple.

    Each is one broadcast node (none where a shape already matches); the derivative sums
    over the broadcast axes.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> [a.shape for a in ea.broadcast_arrays(np.ones((3, 1)), np.ones(4))]
        [(3, 4), (3, 4)]
    """
    if not arrays:
        return ()
    xs, _ = _operands(list(arrays), "broadcast_arrays", "array")
    shape = _broadcast("broadcast_arrays", *(tuple(x.shape) for x in xs))
    return tuple(_finish(x if tuple(x.shape) == shape else rules.broadcast_to_p(x, shape=shape))
                 for x in xs)


def concat(arrays, /, *, axis=0):
    """The standard's name for :func:`concatenate` (``axis=None`` flattens first).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.concat([np.zeros((1, 2)), np.ones((1, 2))], axis=1)
        array([[0., 0., 1., 1.]])
    """
    return concatenate(arrays, axis=axis)


# ------------------------------------------------------------------------ permutations


def flip(x, /, axis=None):
    """Reverse the order of the elements along ``axis`` (None: every axis; an int or a
    tuple). A primitive whose derivative is the same flip.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.flip(np.arange(6).reshape(2, 3), axis=-1)
        array([[2, 1, 0],
               [5, 4, 3]])
    """
    a = _check_operand(x, 0, "flip")
    axes = normalize_axes(axis, a.ndim, "flip")
    return _finish(flip_p(a, axis=axes))


def _ints(value, fname, what):
    seq = value if isinstance(value, (tuple, list)) else (value,)
    try:
        return tuple(operator.index(v) for v in seq)
    except TypeError:
        raise TypeError(f"{fname}: {what} must be an int or a tuple of ints, "
                        f"got {value!r}") from None


def roll(x, /, shift, axis=None):
    """Shift the elements cyclically by ``shift`` along ``axis``.

    ``axis=None`` rolls the flattened array and restores the shape (a tuple ``shift`` then
    rolls by its sum, as numpy's broadcasting does); ``shift`` and ``axis`` may be tuples
    of one length (or one of them an int, repeated), and an axis given twice is rolled by
    the sum of its shifts. A primitive whose derivative is the opposite roll.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.roll(np.arange(5), 2)
        array([3, 4, 0, 1, 2])
        >>> ea.roll(np.arange(6).reshape(2, 3), (1, -1), axis=(0, 1))
        array([[4, 5, 3],
               [1, 2, 0]])
    """
    a = _check_operand(x, 0, "roll")
    shifts = _ints(shift, "roll", "shift")
    if axis is None:
        flat = reshape_p(a, shape=(_size(a.shape),))
        n = flat.shape[0]
        total = sum(shifts) % n if n else 0
        return _finish(reshape_p(roll_p(flat, shift=(total,), axis=(0,)),
                                 shape=tuple(a.shape)))
    axes = _ints(axis, "roll", "axis")
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    elif len(axes) == 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: shift {shift!r} and axis {axis!r} have different lengths")
    per_axis = {}
    for s, ax in zip(shifts, axes):
        ax = _axis(ax, a.ndim, "roll")
        per_axis[ax] = per_axis.get(ax, 0) + s
    order = tuple(sorted(per_axis))
    amounts = tuple(per_axis[ax] % a.shape[ax] if a.shape[ax] else 0 for ax in order)
    return _finish(roll_p(a, shift=amounts, axis=order))


# ---------------------------------------------------------------------------- copies


def repeat(x, repeats, /, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (None: of the flattened array).

    ``repeats`` is an int (or a one-element array: every element alike), or one count
    per element along the axis. A single count is a broadcast (its derivative sums over
    the copies); per-element counts are a gather whose positions are computed from the
    counts' values (the result's shape depends on them: on a lazy backend they are
    computed here), and its derivative scatter-adds.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.repeat(np.array([1, 2, 3]), 2)
        array([1, 1, 2, 2, 3, 3])
        >>> ea.repeat(np.array([[1, 2], [3, 4]]), [1, 2], axis=0)
        array([[1, 2],
               [3, 4],
               [3, 4]])
    """
    a = _check_operand(x, 0, "repeat")
    if axis is None:
        a = reshape_p(a, shape=(_size(a.shape),))
        axis = 0
    if a.ndim == 0:
        a = reshape_p(a, shape=(1,))
    ax = _axis(axis, a.ndim, "repeat")
    n = a.shape[ax]
    bk = _backend_of(a)
    if isinstance(repeats, bool):
        raise TypeError("repeat: repeats must be an int or an array of ints, got a bool")
    counts = None
    if isinstance(repeats, int):
        r = repeats
    else:  # counts are integers: a traced one is read for its value (no derivative)
        counts = _index_array(repeats, bk)
        if _kind(counts.dtype) not in "iu" or len(counts.shape) > 1:
            raise TypeError(f"repeat: repeats must be an int or a 1-D array of ints, got "
                            f"dtype {counts.dtype} and shape {tuple(counts.shape)}")
        if _size(counts.shape) == 1:  # one count for every element
            r, counts = int(bk.to_numpy(counts).reshape(-1)[0]), None
        elif counts.shape[0] != n:
            raise ValueError(f"repeat: {counts.shape[0]} repeats for an axis of size {n} "
                             f"(shape {tuple(a.shape)}, axis {ax})")
    if counts is None:
        if r < 0:
            raise ValueError(f"repeat: repeats must be non-negative, got {r}")
        lead, tail = tuple(a.shape[:ax + 1]), tuple(a.shape[ax + 1:])
        y = rules.broadcast_to_p(reshape_p(a, shape=lead + (1,) + tail),
                                 shape=lead + (r,) + tail)
        return _finish(reshape_p(y, shape=tuple(a.shape[:ax]) + (n * r,) + tail))
    counts = bk.astype(counts, bk.index_dtype)
    if bool(bk.any(bk.less(counts, bk.const(0, counts)))):
        raise ValueError("repeat: repeats must be non-negative")
    idx = bk.repeat(bk.arange(n, dtype=bk.index_dtype, device=bk.device(unwrap(a))), counts)
    return _finish(gather_along(a, idx, ax))


def tile(x, repetitions, /):
    """``x`` repeated ``repetitions[i]`` times along each axis ``i``.

    Shorter ``repetitions`` are padded with 1s in front; a longer one gives ``x`` leading
    size-1 axes first (numpy's and the standard's rule). One broadcast between two
    reshapes, so the derivative sums over the copies.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.tile(np.array([[1, 2]]), (2, 2))
        array([[1, 2, 1, 2],
               [1, 2, 1, 2]])
    """
    a = _check_operand(x, 0, "tile")
    reps = _int_tuple(repetitions, "tile", "repetitions")
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: repetitions must be non-negative, got {reps}")
    nd = max(a.ndim, len(reps))
    shape = (1,) * (nd - a.ndim) + tuple(a.shape)
    reps = (1,) * (nd - len(reps)) + reps
    if all(r == 1 for r in reps):
        return _finish(reshape_p(a, shape=shape))
    inter = tuple(v for d in shape for v in (1, d))
    wide = tuple(v for r, d in zip(reps, shape) for v in (r, d))
    y = rules.broadcast_to_p(reshape_p(a, shape=inter), shape=wide)
    return _finish(reshape_p(y, shape=tuple(r * d for r, d in zip(reps, shape))))


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple (one indexing node each).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.unstack(np.arange(4).reshape(2, 2), axis=1)
        (array([0, 2]), array([1, 3]))
    """
    a = _check_operand(x, 0, "unstack")
    if a.ndim == 0:
        raise ValueError("unstack: a 0-d array has no axis to unstack")
    ax = _axis(axis, a.ndim, "unstack")
    lead = (slice(None),) * ax
    return tuple(_finish(getitem_p(a, index=lead + (i, Ellipsis))) for i in range(a.shape[ax]))


# ---------------------------------------------------------------------- differences


def _edge(value, a, ax, fname, what):
    """``prepend``/``append`` as an array joinable to ``a`` along ``ax``: a scalar or a
    0-d array is broadcast to ``a``'s shape with size 1 along the axis (numpy's rule)."""
    v = _check_operand(value, 0, fname, what, like=_backend_of(a))
    if v.ndim == 0:
        shape = tuple(1 if i == ax else d for i, d in enumerate(a.shape))
        v = rules.broadcast_to_p(v, shape=shape)
    return v


def diff(x, /, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th discrete difference along ``axis``: ``out[i] = x[i+1] - x[i]``,
    applied ``n`` times, after joining ``prepend`` and ``append`` to ``x`` along the
    axis (scalars are broadcast to one slice).

    The standard's keywords and numpy's positional order ``(a, n, axis, ...)``. Boolean
    input differs by ``!=``, as in numpy. Slices and subtractions: linear, differentiable.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.diff(np.array([1.0, 4.0, 9.0, 16.0]), n=2)
        array([2., 2.])
        >>> ea.diff(np.array([1.0, 2.0]), prepend=0.0)
        array([1., 1.])
    """
    a = _check_operand(x, 0, "diff")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"diff: n must be an int, got {n!r}") from None
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    if a.ndim == 0:
        raise ValueError("diff: the input must be at least one-dimensional")
    ax = _axis(axis, a.ndim, "diff")
    if prepend is not None or append is not None:
        parts = [_edge(prepend, a, ax, "diff", "prepend")] if prepend is not None else []
        parts.append(a)
        if append is not None:
            parts.append(_edge(append, a, ax, "diff", "append"))
        a = concatenate(parts, axis=ax)
    for _ in range(n):
        m = a.shape[ax]
        hi, lo = _part(a, ax, 1, max(m, 1)), _part(a, ax, 0, max(m - 1, 0))
        a = rules.not_equal_p(hi, lo) if _kind(a.dtype) == "b" else rules.sub_p(hi, lo)
    return _finish(a)


# --------------------------------------------------------------------------- indexing


def take(x, indices, /, axis=None, out=None, mode="raise"):
    """The elements of ``x`` at ``indices`` along ``axis`` (None: of the flattened array).

    The result has ``indices``' axes in place of ``axis`` (the standard's 1-D indices
    keep the rank; numpy's N-D indices and Python ints too). Negative indices count from
    the end; ``mode`` is numpy's: ``"raise"`` (out-of-range indices raise IndexError:
    checked here where values cost nothing to read, NumPy; elsewhere by the library's own
    indexing), ``"wrap"`` or ``"clip"``. The derivative scatter-adds (repeated indices
    accumulate).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.take(np.array([[1, 2, 3], [4, 5, 6]]), np.array([2, 0]), axis=1)
        array([[3, 1],
               [6, 4]])
        >>> ea.grad(lambda x: ea.sum(ea.take(x, np.array([0, 0, 2]))))(np.ones(3))
        array([2., 0., 1.])
    """
    a = _check_operand(x, 0, "take")
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    if axis is None:
        a = reshape_p(a, shape=(_size(a.shape),))
        axis = 0
    if a.ndim == 0:
        raise ValueError("take: a 0-d array has no axis to take along")
    ax = _axis(axis, a.ndim, "take")
    bk = _backend_of(a)
    idx = _index_array(indices, bk)
    if _kind(idx.dtype) not in "iu":
        raise IndexError(f"take: indices must be integers, got dtype {idx.dtype}")
    idx = bk.astype(idx, bk.index_dtype)
    n = a.shape[ax]
    if n == 0 and _size(idx.shape):
        raise IndexError(f"take: cannot take {_size(idx.shape)} element(s) from an empty "
                         f"axis (shape {tuple(a.shape)}, axis {ax})")
    if mode == "wrap" and n:
        idx = bk.remainder(idx, bk.const(n, idx))
    elif mode == "clip" and n:
        idx = bk.clip(idx, bk.const(0, idx), bk.const(n - 1, idx))
    elif mode == "raise" and n:
        low = bk.less(idx, bk.const(-n, idx))
        high = bk.greater_equal(idx, bk.const(n, idx))
        if bk.values_on_host and bool(bk.any(bk.logical_or(low, high))):
            raise IndexError(f"take: an index is out of bounds for axis {ax} with size {n}")
        idx = bk.where(bk.less(idx, bk.const(0, idx)), bk.add(idx, bk.const(n, idx)), idx)
    return store_out(gather_along(a, idx, ax), out, "take")
