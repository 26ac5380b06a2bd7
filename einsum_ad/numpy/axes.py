"""Axis permutations, diagonals and reductions, each lowered to one einsum node.

``transpose``/``permute_dims``, ``swapaxes``, ``moveaxis`` and ``matrix_transpose`` are
single-operand einsums that only reorder labels; ``diagonal`` and ``trace`` repeat a label;
``sum`` and ``mean`` drop labels from the output. Two things a plain ``"abc->ac"`` cannot
say are folded into the same node through a constant operand, never a second node:

* ``keepdims``: a constant of ones of shape ``(1,) * len(axes)`` whose labels sit in the
  output where the reduced axes were, so the einsum itself produces the size-1 axes;
* ``mean``'s ``1/n`` and numpy's accumulator dtype (``sum`` of int8 is int64): the
  constant holds ``1/n`` (or 1) in the result dtype.

A diagonal at an offset, or of two axes of different lengths, is not an einsum: the
operand is first sliced to the square block that holds the diagonal (free for plain
arrays; for traced values one indexing node, ``x[...]``), then the einsum repeats a label.
"""

from __future__ import annotations

import math
import operator
import warnings

from .. import backend as _backend
from .. import rules
from ..core import Tracer, unwrap
from ..rules import where_p, zero
from ._args import (
    _NOVALUE,
    _axis,
    _axis_tuple,
    _backend_of,
    _check_operand,
    _scalar_like,
    _where_mask,
    _zero_d_axis,
    store_out,
)
from .multilinear import lower

_kind = _backend.kind

__all__ = ["transpose", "permute_dims", "swapaxes", "moveaxis", "matrix_transpose",
           "diagonal", "trace", "sum", "mean"]

_builtin_sum = sum


def _permute(a, order):
    """One einsum node that only reorders the axes: output axis i is input axis order[i]."""
    labels = list(range(a.ndim))
    return lower([a], [labels], [labels[i] for i in order])


# ----------------------------------------------------------------------- permutations


def transpose(a, axes=None):
    """Permute the axes (reverse them by default): one einsum node.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.transpose(np.ones((2, 3, 4)), (1, -1, 0)).shape
        (3, 4, 2)
    """
    a = _check_operand(a, 0, "transpose")
    if axes is None:
        return _permute(a, range(a.ndim - 1, -1, -1))
    axes = tuple(axes)
    if len(axes) != a.ndim:
        raise ValueError(f"transpose: axes don't match array: {len(axes)} axes {axes} for an "
                         f"array of {a.ndim} dimension(s) (shape {tuple(a.shape)})")
    order = [_axis(ax, a.ndim, "transpose") for ax in axes]
    if len(set(order)) != len(order):
        raise ValueError(f"transpose: repeated axis in transpose: {axes}")
    return _permute(a, order)


def permute_dims(a, axes=None):
    """The array API's name for :func:`transpose`."""
    return transpose(a, axes)


def swapaxes(a, axis1, axis2):
    """Interchange two axes: one einsum node.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.swapaxes(np.ones((2, 3, 4)), 0, -1).shape
        (4, 3, 2)
    """
    a = _check_operand(a, 0, "swapaxes")
    i = _axis(axis1, a.ndim, "swapaxes", "axis1")
    j = _axis(axis2, a.ndim, "swapaxes", "axis2")
    order = list(range(a.ndim))
    order[i], order[j] = j, i
    return _permute(a, order)


def moveaxis(a, source, destination):
    """Move axes to new positions, the others keeping their order: one einsum node.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.moveaxis(np.ones((2, 3, 4)), 0, -1).shape
        (3, 4, 2)
    """
    a = _check_operand(a, 0, "moveaxis")
    src = _axis_tuple(source, a.ndim, "moveaxis", "source")
    dst = _axis_tuple(destination, a.ndim, "moveaxis", "destination")
    if len(src) != len(dst):
        raise ValueError("moveaxis: `source` and `destination` arguments must have the same "
                         f"number of elements ({source!r} and {destination!r})")
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permute(a, order)


def matrix_transpose(x):
    """Swap the last two axes: one einsum node.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.matrix_transpose(np.ones((5, 2, 3))).shape
        (5, 3, 2)
    """
    x = _check_operand(x, 0, "matrix_transpose")
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: input array must be at least 2-dimensional, but "
                         f"it has shape {tuple(x.shape)}")
    return swapaxes(x, -1, -2)


# -------------------------------------------------------------------------- diagonals


def _diag_axes(a, axis1, axis2, fname):
    if a.ndim < 2:
        raise ValueError(f"{fname}: diag requires an array of at least two dimensions, got "
                         f"shape {tuple(a.shape)}")
    i = _axis(axis1, a.ndim, fname, "axis1")
    j = _axis(axis2, a.ndim, fname, "axis2")
    if i == j:
        raise ValueError(f"{fname}: axis1 and axis2 cannot be the same (both are axis {i})")
    return i, j


def _square_block(a, offset, i, j, fname):
    """``a`` sliced so that axes i and j have equal length and the offset diagonal starts
    at (0, 0). Plain arrays are sliced as views; traced ones through indexing."""
    offset = operator.index(offset)
    r0, c0 = max(-offset, 0), max(offset, 0)
    n = max(0, min(a.shape[i] - r0, a.shape[j] - c0))
    if r0 == 0 and c0 == 0 and a.shape[i] == a.shape[j]:
        return a
    index = [slice(None)] * a.ndim
    index[i] = slice(min(r0, a.shape[i]), min(r0, a.shape[i]) + n)
    index[j] = slice(min(c0, a.shape[j]), min(c0, a.shape[j]) + n)
    if isinstance(a, Tracer) and not hasattr(Tracer, "__getitem__"):
        raise TypeError(f"{fname}: a traced diagonal with offset {offset} or of unequal "
                        f"axes (shape {tuple(a.shape)}) needs indexing of traced values")
    return a[tuple(index)]


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal of the (axis1, axis2) planes, as numpy lays it out: that axis last.

    One einsum node that repeats a label. With ``offset != 0`` or axes of different
    lengths, the square block holding the diagonal is sliced out first (see the module
    docstring).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.diagonal(np.arange(6.0).reshape(2, 3), offset=1)
        array([1., 5.])
    """
    a = _check_operand(a, 0, "diagonal")
    i, j = _diag_axes(a, axis1, axis2, "diagonal")
    a = _square_block(a, offset, i, j, "diagonal")
    labels = list(range(a.ndim))
    labels[j] = labels[i]
    return lower([a], [labels], [t for k, t in enumerate(labels) if k not in (i, j)] + [i])


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """The sum along a diagonal (see :func:`diagonal`): one einsum node.

    Args:
        a: an array of at least 2 dimensions.
        offset, axis1, axis2: which diagonal, as in :func:`diagonal`.
        dtype: the accumulator and result dtype (numpy's default: ``a``'s dtype, widened
            to the platform integer for small integers and bool).
        out: a plain array to write the result into (returned); TypeError when traced.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.trace(np.arange(9.0).reshape(3, 3)))
        12.0
    """
    a = _check_operand(a, 0, "trace")
    i, j = _diag_axes(a, axis1, axis2, "trace")
    a = _square_block(a, offset, i, j, "trace")
    labels = list(range(a.ndim))
    labels[j] = labels[i]
    kept = [t for k, t in enumerate(labels) if k not in (i, j)]
    res = _reduce(a, [labels], kept, [], _sum_dtype(a, dtype), 1)
    return store_out(res, out, "trace")


# ------------------------------------------------------------------------- reductions


def _sum_dtype(a, requested):
    """numpy's accumulator: small integers and bool widen to the platform integer."""
    bk = _backend_of(a)
    if requested is not None:
        return bk.dtype(requested)
    return bk.sum_dtype(a.dtype)


def _reduce(a, terms, out, kept_ones, dtype, scale):
    """One einsum node: ``a`` with ``terms`` -> ``out``, times a constant holding
    ``scale`` in ``dtype`` with the labels ``kept_ones`` (size-1 axes of the output).
    The constant is left out when it would change nothing."""
    bk = _backend_of(a)
    if bk.result_type(a.dtype, dtype) != dtype:
        a = rules.astype_p(a, dtype=dtype)  # a narrower requested dtype: one astype node
    ops = [a]
    if kept_ones or scale != 1 or a.dtype != dtype:
        ops.append(bk.full((1,) * len(kept_ones), scale, dtype=dtype,
                           device=bk.device(unwrap(a))))
        terms = list(terms) + [kept_ones]
    res = lower(ops, terms, out)
    if not isinstance(res, Tracer) and (res is a or bk.owner(res) is not None
                                        and bk.owner(res) == bk.owner(a)):
        res = bk.copy(res)  # a reduction over no axis is the operand itself: numpy copies
    return res


def _reduce_labels(a, axis, keepdims, fname):
    axes = _axis_tuple(axis, a.ndim, fname)
    labels = list(range(a.ndim))
    if keepdims:
        out = [a.ndim + k if k in axes else k for k in labels]
        ones = [a.ndim + k for k in sorted(axes)]
    else:
        out, ones = [k for k in labels if k not in axes], []
    count = math.prod(a.shape[k] for k in axes)
    return labels, out, ones, count


def sum(a, /, axis=None, dtype=None, out=None, keepdims=False,  # noqa: A001 - numpy's name
        initial=_NOVALUE, where=True):
    """Sum over ``axis`` (None: all; an int; a tuple), with numpy's signature (``a``
    positional-only, as the standard's ``sum(x, /, *, axis, dtype, keepdims)``).

    One einsum node (``keepdims`` and the accumulator dtype are folded in as a constant
    operand; see the module docstring). ``where`` (a boolean mask broadcastable to ``a``)
    adds one ``where`` node that zeroes the excluded elements (an excluded inf or NaN
    stays out of the sum, as in numpy); ``initial`` (a scalar, cast to the result dtype)
    adds one ``add`` node. ``out`` (plain arrays only) receives the result and is returned.
    A 0-d ``a`` accepts ``axis=0`` or ``-1`` (no reduction), as numpy's ``sum`` does.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.sum(np.ones((2, 3, 4)), axis=(0, -1), keepdims=True).shape
        (1, 3, 1)
        >>> ea.sum(np.array([1.0, np.inf, 2.0]), where=np.array([True, False, True]))
        np.float64(3.0)
    """
    a = _check_operand(a, 0, "sum")
    axis = _zero_d_axis(a, axis)
    mask = _where_mask(where, a, "sum")
    if mask is not None:
        a = where_p(mask, a, zero(a))
    labels, out_labels, ones, _ = _reduce_labels(a, axis, keepdims, "sum")
    res = _reduce(a, [labels], out_labels, ones, _sum_dtype(a, dtype), 1)
    if initial is not _NOVALUE:
        res = rules.add_p(res, _scalar_like(initial, res, "sum", "initial"))
    return store_out(res, out, "sum")


def mean(a, /, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    """The mean over ``axis``, with numpy's signature (``a`` positional-only, as the
    standard's): one einsum node, with ``1/n`` folded into the contraction.

    Integer and bool inputs give float64, as in numpy. float16 input (with no ``dtype``) is
    averaged in float32 and cast back, as numpy does (one astype node more). A mean over
    zero elements is NaN for plain arrays (with numpy's RuntimeWarning) and a ValueError for
    traced values. ``where`` (a boolean mask broadcastable to ``a``) averages the selected
    elements only: a ``where`` node, the einsum sum, and a division by the (constant)
    counts; a position with nothing selected is NaN, as in numpy. ``out`` (plain arrays
    only) receives the result and is returned.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.mean(np.arange(6.0).reshape(2, 3), axis=-1)
        array([1., 4.])
        >>> ea.mean(np.arange(6.0).reshape(2, 3), -1, None, None, False,
        ...         where=np.array([True, True, False]))
        array([0.5, 3.5])
    """
    a = _check_operand(a, 0, "mean")
    mask = _where_mask(where, a, "mean")
    if mask is not None:  # numpy's where= path is a ufunc reduction: 0-d takes axis=0
        axis = _zero_d_axis(a, axis)
    labels, out_labels, ones, n = _reduce_labels(a, axis, keepdims, "mean")
    # as numpy: float16 (with no dtype asked for) is averaged in float32, since its sum
    # overflows past 65504 and 1/n underflows past 2**24 elements; then cast back
    bk = _backend_of(a)
    half = dtype is None and getattr(bk, "float16", None) is not None \
        and a.dtype == bk.float16
    if dtype is None:
        dtype = bk.default_float if _kind(a.dtype) in "biu" else a.dtype
    dtype = bk.dtype(dtype)
    acc = bk.float32 if half else dtype
    if mask is not None:
        axes = _axis_tuple(axis, a.ndim, "mean")
        counts = bk.sum(bk.astype(mask, acc), axis=axes, keepdims=keepdims)
        total = _reduce(where_p(mask, a, zero(a)), [labels], out_labels, ones, acc, 1)
        with bk.quiet():
            if bk.values_on_host and not bool(bk.all(counts)):
                warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
            res = rules.div_p(total, counts)
    elif n == 0:
        if isinstance(a, Tracer):
            raise ValueError(f"mean: the mean over axis {axis!r} of an array of shape "
                             f"{tuple(a.shape)} averages zero elements")
        warnings.warn("Mean of empty slice.", RuntimeWarning, stacklevel=2)
        shape = tuple(1 if lab >= a.ndim else a.shape[lab] for lab in out_labels)
        res = bk.full(shape, float("nan"), dtype=dtype, device=bk.device(a))
    else:
        res = _reduce(a, [labels], out_labels, ones, acc, 1.0 / n)
    if acc != dtype:  # float16: one astype node more
        res = rules.astype_p(res, dtype=dtype)
    return store_out(res, out, "mean")
