"""Searching, sets, sorting and truth values: ``argmax``, ``argmin``, ``count_nonzero``,
``nonzero``, ``searchsorted``, ``unique_*``, ``argsort``, ``sort``, ``all``, ``any``.

Their results are integers or booleans (positions, counts, orders, truth values; and the
values of the unique elements): computed on the value underneath every level of tracing,
they are constants of any trace, with derivative zero. ``sort`` is the exception: its
values are ``x`` gathered by the sorting permutation (a primitive whose derivative
gathers back by the inverse permutation), so tied elements receive their derivatives
through the same permutation that placed them. The lengths of ``nonzero``'s and the
``unique_*`` results depend on the values: a lazy backend computes them here. The
standard's signatures (``x`` positional-only), with numpy's ``out``, ``kind``,
``order``, ``where`` and ``axis=None`` flattening beside them.
"""

from __future__ import annotations

from math import prod as _size

from .. import backend as _backend
from ..core import Tracer, unwrap
from ..rules import permute_along_p, reshape_p
from ._args import (
    AxisError,
    _axis,
    _backend_of,
    _check_operand,
    _finish,
    _where_mask,
    _zero_d_axis,
    normalize_axes,
    store_out,
)

_kind = _backend.kind

__all__ = ["argmax", "argmin", "count_nonzero", "nonzero", "searchsorted", "unique_all",
           "unique_counts", "unique_inverse", "unique_values", "argsort", "sort", "all",
           "any"]


def _value(x, fname):
    """The plain value of an operand (a traced one's value: the result is a constant)."""
    return unwrap(_check_operand(x, 0, fname))


# ---------------------------------------------------------------------------- searching


def _arg_extremum(name, x, axis, out, keepdims):
    v = _value(x, name)
    bk = _backend_of(v)
    if axis is None:
        if _size(v.shape) == 0:
            raise ValueError(f"{name}: attempt to get {name} of an empty array")
        res = getattr(bk, name)(v, axis=None, keepdims=bool(keepdims))
    else:
        ax = _axis(axis, len(v.shape), name)
        if v.shape[ax] == 0:
            raise ValueError(f"{name}: attempt to get {name} of an empty sequence (axis {ax} "
                             f"of shape {tuple(v.shape)})")
        res = getattr(bk, name)(v, axis=ax, keepdims=bool(keepdims))
    return store_out(res, out, name)


def argmax(x, /, axis=None, out=None, *, keepdims=False):
    """The index of the (first) maximum along ``axis`` (None: of the flattened array).

    An integer constant, never differentiated (also for traced ``x``).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.argmax(np.array([[1, 5, 5], [7, 0, 2]]), axis=1)
        array([1, 0])
    """
    return _arg_extremum("argmax", x, axis, out, keepdims)


def argmin(x, /, axis=None, out=None, *, keepdims=False):
    """The index of the (first) minimum along ``axis``; like :func:`argmax`."""
    return _arg_extremum("argmin", x, axis, out, keepdims)


def count_nonzero(x, /, axis=None, *, keepdims=False):
    """The number of non-zero elements over ``axis`` (None: all; an int or a tuple).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.count_nonzero(np.array([[0, 1, 2], [3, 0, 0]]), axis=1)
        array([2, 1])
    """
    v = _value(x, "count_nonzero")
    bk = _backend_of(v)
    axes = normalize_axes(axis, len(v.shape), "count_nonzero")
    return _finish(bk.count_nonzero(v, axis=axes, keepdims=bool(keepdims)))


def nonzero(x, /):
    """The indices of the non-zero elements: one integer array per axis (their length
    depends on the values; a lazy backend computes them here).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.nonzero(np.array([[0, 1], [2, 0]]))
        (array([0, 1]), array([1, 0]))
    """
    v = _value(x, "nonzero")
    if len(v.shape) == 0:
        raise ValueError("nonzero: a 0-d array has no indices; use atleast_1d(x) or x[None]")
    return tuple(_backend_of(v).nonzero_known(v))


def searchsorted(x1, x2, /, side="left", sorter=None):
    """Where ``x2``'s values would be inserted into the sorted 1-D ``x1`` to keep it
    sorted (``side="left"``: before equal values; ``"right"``: after). ``sorter`` (the
    permutation that sorts ``x1``) and a scalar ``x2`` are allowed; both are compared in
    their promoted dtype.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.searchsorted(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.5]), side="right")
        array([2, 2])
    """
    a = _value(x1, "searchsorted")
    bk = _backend_of(a)
    if len(a.shape) != 1:
        raise ValueError(f"searchsorted: x1 must be 1-D, got shape {tuple(a.shape)}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    v = unwrap(x2)
    if isinstance(v, (bool, int, float, complex)):
        v = bk.scalar(v, bk.weak_dtype(a.dtype, v), bk.device(a))
    else:
        v = unwrap(_check_operand(v, 1, "searchsorted", like=bk))
    dt = bk.result_type(a.dtype, v.dtype)
    a, v = bk.astype(a, dt), bk.astype(v, dt)
    if sorter is not None:
        sorter = unwrap(_check_operand(sorter, 2, "searchsorted", "sorter", like=bk))
        if _kind(sorter.dtype) not in "iu" or tuple(sorter.shape) != tuple(a.shape):
            raise ValueError(f"searchsorted: sorter must be integers of x1's shape "
                             f"{tuple(a.shape)}, got dtype {sorter.dtype} and shape "
                             f"{tuple(sorter.shape)}")
    return _finish(bk.searchsorted(a, v, side=side, sorter=sorter))


# --------------------------------------------------------------------------------- sets


def unique_all(x, /):
    """The unique elements of ``x`` (flattened) with the index of each one's first
    occurrence, the inverse indices (``x``'s shape) and the counts: a named tuple
    ``(values, indices, inverse_indices, counts)``. NaNs are distinct, as the standard
    says. Constants, also for traced ``x``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.unique_all(np.array([3, 1, 3])).counts
        array([1, 2])
    """
    v = _value(x, "unique_all")
    return _backend_of(v).unique_all(v)


def unique_counts(x, /):
    """``(values, counts)`` of the unique elements (see :func:`unique_all`)."""
    v = _value(x, "unique_counts")
    return _backend_of(v).unique_counts(v)


def unique_inverse(x, /):
    """``(values, inverse_indices)``: ``values[inverse_indices]`` is ``x``."""
    v = _value(x, "unique_inverse")
    return _backend_of(v).unique_inverse(v)


def unique_values(x, /):
    """The unique elements of ``x`` (flattened), as a constant array.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.unique_values(np.array([[2, 1], [1, 2]]))
        array([1, 2])
    """
    v = _value(x, "unique_values")
    return _backend_of(v).unique_values(v)


# ------------------------------------------------------------------------------ sorting

_KINDS = (None, "quicksort", "mergesort", "heapsort", "stable")


def _sort_args(fname, kind, order, stable):
    """numpy's ``kind`` and ``order`` beside the standard's ``stable``: whether the sort
    must be stable. It is unless asked otherwise (``stable=False``, or numpy's
    ``kind="quicksort"``/``"heapsort"`` with ``stable`` not given): the standard's
    default, where numpy's is unstable."""
    if order is not None:
        raise ValueError(f"{fname}: order= sorts structured arrays, which are not supported")
    if kind not in _KINDS:
        raise ValueError(f"{fname}: kind must be one of {_KINDS[1:]}, got {kind!r}")
    if stable not in (None, True, False):
        raise TypeError(f"{fname}: stable must be a bool or None, got {stable!r}")
    if stable is None:
        return kind not in ("quicksort", "heapsort")
    return stable


def _sort_axis(a, axis, fname):
    """``a`` (flattened for ``axis=None``, numpy's rule) and the normalised axis."""
    if axis is None:
        return reshape_p(a, shape=(_size(a.shape),)), 0
    if a.ndim == 0:
        raise AxisError(f"{fname}: axis {axis} is out of bounds for array of dimension 0")
    return a, _axis(axis, a.ndim, fname)


def argsort(x, /, axis=-1, kind=None, order=None, *, descending=False, stable=None):
    """The indices that sort ``x`` along ``axis`` (None: the flattened array).

    The standard's ``argsort(x, /, *, axis, descending, stable)`` with numpy's ``kind``
    and ``order``. Stable unless ``stable=False`` (or numpy's ``kind="quicksort"`` or
    ``"heapsort"``) is asked for: equal elements keep their order, in a descending sort
    too. NaNs sort last (first when descending), as in numpy. An integer constant.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.argsort(np.array([3, 1, 3, 2]), descending=True)
        array([0, 2, 3, 1])
    """
    stable = _sort_args("argsort", kind, order, stable)
    a, ax = _sort_axis(_value(x, "argsort"), axis, "argsort")
    return _finish(_backend_of(a).sort_indices(a, ax, bool(descending), stable))


def sort(x, /, axis=-1, kind=None, order=None, *, descending=False, stable=None):
    """``x`` sorted along ``axis`` (None: the flattened array), with :func:`argsort`'s
    arguments.

    Traced ``x``: the values are ``x`` gathered by the sorting permutation (a
    primitive), so the VJP sends each output's cotangent back to the element it came
    from, and tied elements get theirs through that same permutation: first tie first
    with the default stable sort; with ``stable=False`` the (faster) unstable order's
    choice, still one permutation for the value and both derivatives.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.sort(np.array([[3.0, 1.0, 2.0]]), descending=True)
        array([[3., 2., 1.]])
        >>> ea.grad(lambda x: ea.sort(x)[0] * 10 + ea.sort(x)[1])(np.array([2.0, 1.0, 2.0]))
        array([ 1., 10.,  0.])
    """
    stable = _sort_args("sort", kind, order, stable)
    a, ax = _sort_axis(_check_operand(x, 0, "sort"), axis, "sort")
    bk = _backend_of(a)
    if not isinstance(a, Tracer):
        return _finish(bk.sort_values(a, ax, bool(descending)))
    perm = bk.sort_indices(unwrap(a), ax, bool(descending), stable)
    return permute_along_p(a, perm=perm, axis=ax)


# ------------------------------------------------------------------------- truth values


def _truth(name, x, axis, out, keepdims, where, neutral):
    v = _value(x, name)
    bk = _backend_of(v)
    axis = _zero_d_axis(v, axis)
    axes = normalize_axes(axis, len(v.shape), name)
    b = v if _kind(v.dtype) == "b" else bk.not_equal(v, bk.const(0, v))
    mask = _where_mask(where, v, name)
    if mask is not None:
        b = bk.where(mask, b, bk.scalar(neutral, bk.bool, bk.device(v)))
    return store_out(getattr(bk, name)(b, axis=axes, keepdims=bool(keepdims)), out, name)


def all(x, /, axis=None, out=None, keepdims=False, *, where=True):  # noqa: A001
    """Whether every element over ``axis`` is true (non-zero); True over no elements.
    numpy's ``out`` and ``where`` (unselected elements count as true). A constant.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.all(np.array([[1, 0], [2, 3]]), axis=1)
        array([False,  True])
    """
    return _truth("all", x, axis, out, keepdims, where, True)


def any(x, /, axis=None, out=None, keepdims=False, *, where=True):  # noqa: A001
    """Whether any element over ``axis`` is true (non-zero); False over no elements."""
    return _truth("any", x, axis, out, keepdims, where, False)
