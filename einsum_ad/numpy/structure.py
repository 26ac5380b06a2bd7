"""Shape and structure: reshape, broadcasting, axes, joining, splitting, indexing.

numpy-compatible wrappers (same names, signatures and errors) over the structural
primitives of ``rules.py`` and ``rules_structural.py``. ``expand_dims``, ``squeeze`` and
``stack`` are reshapes (and a concatenation); ``split`` and ``take_along_axis`` are
indexing; none needs a rule of its own.
"""

from __future__ import annotations

import operator
from math import prod

import numpy as np

from .. import rules
from ..core import Tracer, unwrap
from ..rules import concatenate_p, getitem_p
from ._reduce_args import _store_out
from .axes import transpose
from .elementwise import normalize_axes
from .multilinear import _check_operand, _finish

__all__ = ["reshape", "broadcast_to", "expand_dims", "squeeze", "concatenate", "stack",
           "split", "getitem", "take_along_axis", "astype", "normalize_index"]


def _int_tuple(shape, fname, what="shape"):
    shape = (shape,) if not isinstance(shape, (tuple, list)) else shape
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{fname}: {what} must be an int or a tuple of ints, "
                        f"got {shape!r}") from None


def reshape(a, shape, order="C"):
    """Give ``a`` a new shape with the same elements, read and written in ``order``.

    One entry of ``shape`` may be -1: it is inferred from the size. ``order="F"``
    (column-major) is the row-major reshape between two axis reversals (two einsum
    transposes around one reshape node); ``"A"`` is ``"F"`` for a Fortran-contiguous plain
    array and ``"C"`` otherwise, as in numpy.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.reshape(np.arange(6), (-1, 3))
        array([[0, 1, 2],
               [3, 4, 5]])
    """
    x = _check_operand(a, 0, "reshape")
    if order not in ("C", "F", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got order={order!r}")
    if order == "A":
        order = "F" if (isinstance(x, np.ndarray) and x.flags.f_contiguous
                        and not x.flags.c_contiguous) else "C"
    shape = list(_int_tuple(shape, "reshape"))
    size = prod(x.shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension, got {tuple(shape)}")
    if any(d < -1 for d in shape):
        raise ValueError(f"reshape: negative dimension in {tuple(shape)}")
    known = prod(d for d in shape if d != -1)
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape an array of size {size} (shape "
                             f"{tuple(x.shape)}) into shape {tuple(shape)}")
        shape[shape.index(-1)] = size // known
    elif known != size:
        raise ValueError(f"reshape: cannot reshape an array of size {size} (shape "
                         f"{tuple(x.shape)}) into shape {tuple(shape)}")
    if order == "F":  # column-major: reverse the axes, reshape row-major, reverse back
        return transpose(rules.reshape_p(transpose(x), shape=tuple(reversed(shape))))
    return _finish(rules.reshape_p(x, shape=tuple(shape)))


def broadcast_to(a, shape):
    """``a`` broadcast to ``shape`` by numpy's rules (size-1 and missing leading axes).

    Its derivative sums over the broadcast axes (in the backward pass's one ``fit``).
    """
    x = _check_operand(a, 0, "broadcast_to")
    shape = _int_tuple(shape, "broadcast_to")
    if any(d < 0 for d in shape):
        raise ValueError(f"broadcast_to: negative dimension in {shape}")
    lead = len(shape) - x.ndim
    if lead < 0 or any(d not in (1, shape[lead + i]) for i, d in enumerate(x.shape)):
        raise ValueError(f"broadcast_to: an operand of shape {tuple(x.shape)} cannot be "
                         f"broadcast to shape {shape}")
    return _finish(rules.broadcast_to_p(x, shape=shape))


def expand_dims(a, axis):
    """Insert size-1 axes at the positions ``axis`` (an int or a tuple) of the result."""
    x = _check_operand(a, 0, "expand_dims")
    n = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = normalize_axes(axis, x.ndim + n, "expand_dims")
    dims = iter(x.shape)
    shape = tuple(1 if i in axes else next(dims) for i in range(x.ndim + n))
    return _finish(rules.reshape_p(x, shape=shape))


def squeeze(a, axis=None):
    """Remove size-1 axes: those in ``axis``, or all of them when ``axis`` is None."""
    x = _check_operand(a, 0, "squeeze")
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        for ax in axes:
            if x.shape[ax] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {ax} of size {x.shape[ax]} "
                                 f"(shape {tuple(x.shape)}); only size-1 axes can be removed")
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return _finish(rules.reshape_p(x, shape=shape))


def _operands(arrays, fname):
    if isinstance(arrays, (np.ndarray, Tracer)) or not hasattr(arrays, "__iter__"):
        raise TypeError(f"{fname}: expected a sequence of arrays, got {type(arrays).__name__}")
    xs = [_check_operand(a, k, fname) for k, a in enumerate(arrays)]
    if not xs:
        raise ValueError(f"{fname}: need at least one array")
    return xs


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays along an existing axis (None: flatten them first), with numpy's signature.

    ``dtype`` casts every array first (one astype node each), checked with numpy's
    ``casting`` rule (TypeError when not allowed); ``out`` (plain arrays only) receives the
    result and is returned.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.concatenate([np.zeros(2), np.ones(1)])
        array([0., 0., 1.])
    """
    xs = _operands(arrays, "concatenate")
    if out is not None and dtype is not None:
        raise TypeError("concatenate: give out or dtype, not both (as numpy)")
    if dtype is not None:
        dtype = np.dtype(dtype)
        for k, x in enumerate(xs):
            if not np.can_cast(x.dtype, dtype, casting=casting):
                raise TypeError(f"concatenate: cannot cast array {k} from {x.dtype} to "
                                f"{dtype} under the rule {casting!r}")
        xs = [x if x.dtype == dtype else rules.astype_p(x, dtype=dtype) for x in xs]
    if axis is None:
        xs = [rules.reshape_p(x, shape=(prod(x.shape),)) for x in xs]
        axis = 0
    if xs[0].ndim == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    (ax,) = normalize_axes(axis, xs[0].ndim, "concatenate")
    for k, x in enumerate(xs):
        if x.ndim != xs[0].ndim:
            raise ValueError(f"concatenate: array 0 has {xs[0].ndim} dimension(s) but array "
                             f"{k} has {x.ndim}")
        if any(d != e for i, (d, e) in enumerate(zip(x.shape, xs[0].shape)) if i != ax):
            raise ValueError(f"concatenate: array {k} has shape {tuple(x.shape)}, which "
                             f"differs from array 0's {tuple(xs[0].shape)} off axis {ax}")
    return _store_out(concatenate_p(*xs, axis=ax), out, "concatenate")


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join same-shaped arrays along a new axis ``axis`` of the result (``out``, ``dtype``
    and ``casting`` as in :func:`concatenate`)."""
    xs = _operands(arrays, "stack")
    for k, x in enumerate(xs):
        if tuple(x.shape) != tuple(xs[0].shape):
            raise ValueError(f"stack: all arrays must have the same shape; array 0 has "
                             f"{tuple(xs[0].shape)} and array {k} has {tuple(x.shape)}")
    (ax,) = normalize_axes(axis, xs[0].ndim + 1, "stack")
    return concatenate([expand_dims(x, ax) for x in xs], axis=ax, out=out, dtype=dtype,
                       casting=casting)


def split(ary, indices_or_sections, axis=0):
    """Split ``ary`` along ``axis`` into equal sections (an int) or at the given indices.

    Returns a list of arrays (traced values), each a slice of ``ary``.
    """
    x = _check_operand(ary, 0, "split")
    (ax,) = normalize_axes(axis, x.ndim, "split")
    n = x.shape[ax]
    if isinstance(indices_or_sections, (tuple, list, np.ndarray)):
        cuts = [operator.index(i) for i in indices_or_sections]
    else:
        sections = operator.index(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ValueError(f"split: an axis of size {n} cannot be split into {sections} "
                             "equal sections")
        cuts = [n // sections * k for k in range(1, sections)]
    bounds = zip([0] + cuts, cuts + [n])
    lead = (slice(None),) * ax
    return [_finish(getitem_p(x, index=lead + (slice(lo, hi),))) for lo, hi in bounds]


def _consumed(k) -> int:
    """How many axes of the indexed array an index entry reads (Ellipsis: none here)."""
    if k is None or k is Ellipsis:
        return 0
    if isinstance(k, np.ndarray) and k.dtype == np.bool_:
        return k.ndim
    return 1


def normalize_index(key, shape) -> tuple:
    """A numpy index into an array of ``shape``, as a tuple of slices, ints, None, Ellipsis
    and integer arrays.

    Boolean arrays become their ``nonzero()`` integer arrays (numpy's own definition), after
    checking their shape against the axes they cover; traced integer or boolean arrays are
    used by value (an index has no derivative).
    """
    key = key if isinstance(key, tuple) else (key,)
    entries = []
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            entries.append(k)
        elif isinstance(k, (bool, np.bool_)):
            raise TypeError("indexing: a scalar boolean index is not supported")
        elif isinstance(k, (int, np.integer)):
            entries.append(int(k))
        else:
            arr = np.asarray(unwrap(k))
            if arr.dtype == np.bool_ and arr.ndim == 0:
                raise TypeError("indexing: a 0-d boolean index is not supported")
            if arr.dtype != np.bool_ and arr.dtype.kind not in "iu" and arr.size:
                raise IndexError(f"indexing: an index of dtype {arr.dtype} is not valid; use "
                                 "integers, slices, None, ..., or integer or boolean arrays")
            entries.append(arr if arr.dtype == np.bool_ else arr.astype(np.intp))
    ellipsis_width = len(shape) - sum(_consumed(k) for k in entries)
    out, axis = [], 0
    for k in entries:
        if k is Ellipsis:
            axis += max(ellipsis_width, 0)
        elif isinstance(k, np.ndarray) and k.dtype == np.bool_:
            covered = tuple(shape[axis:axis + k.ndim])
            if k.shape != covered:
                raise IndexError(f"indexing: a boolean index of shape {k.shape} does not match "
                                 f"the axes {axis}..{axis + k.ndim - 1} of shape {covered} "
                                 f"it covers (array shape {tuple(shape)})")
            out.extend(k.nonzero())
            axis += k.ndim
            continue
        else:
            axis += _consumed(k)
        out.append(k)
    return tuple(out)


def getitem(a, key):
    """``a[key]`` with numpy semantics (slices, ints, None, ..., integer and boolean arrays).

    The derivative scatter-adds into zeros (``np.add.at``), so repeated indices accumulate.
    """
    x = _check_operand(a, 0, "getitem")
    return _finish(getitem_p(x, index=normalize_index(key, tuple(x.shape))))


def take_along_axis(arr, indices, axis=-1):
    """Pick ``arr``'s values at ``indices`` along ``axis`` (as :func:`numpy.take_along_axis`).

    ``indices`` has ``arr``'s number of dimensions; other axes broadcast. With
    ``axis=None``, ``arr`` is flattened and ``indices`` must be 1-D.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.take_along_axis(np.array([[1, 2], [3, 4]]), np.array([[1], [0]]), axis=1)
        array([[2],
               [3]])
    """
    x = _check_operand(arr, 0, "take_along_axis")
    idx = np.asarray(unwrap(indices))
    if idx.dtype.kind not in "iu":
        raise IndexError(f"take_along_axis: indices must be integers, got dtype {idx.dtype}")
    if axis is None:
        x = rules.reshape_p(x, shape=(prod(x.shape),))
        axis = 0
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices has {idx.ndim} dimension(s) (shape "
                         f"{idx.shape}) but arr has {x.ndim} (shape {tuple(x.shape)})")
    (ax,) = normalize_axes(axis, x.ndim, "take_along_axis")
    index = []
    for d in range(x.ndim):
        if d == ax:
            index.append(idx.astype(np.intp))
        else:
            shape = [1] * x.ndim
            shape[d] = x.shape[d]
            index.append(np.arange(x.shape[d]).reshape(shape))
    return _finish(getitem_p(x, index=tuple(index)))


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` cast to ``dtype``; the derivative is cast back to ``x``'s dtype.

    numpy's signature: with ``copy=False`` a plain ``x`` that already has ``dtype`` is
    returned itself; otherwise the result is a new array. ``device`` may only be None or
    ``"cpu"``.
    """
    x = _check_operand(x, 0, "astype")
    if device not in (None, "cpu"):
        raise ValueError(f"astype: device must be None or 'cpu', got {device!r}")
    if np.dtype(dtype) == x.dtype and (isinstance(x, Tracer) or not copy):
        return x
    out = rules.astype_p(x, dtype=np.dtype(dtype))
    if isinstance(out, np.ndarray) and np.may_share_memory(out, x):
        out = out.copy()  # as numpy's astype: a new array, even for the same dtype
    return _finish(out)
