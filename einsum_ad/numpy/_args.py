"""The user namespace's boundary: operands checked and made arrays of one library, axes
normalised, and numpy's extra arguments (``out=``, ``initial=``, ``where=``) read.

Every function of the namespace passes its inputs through here first (principle: normalise
at the boundary), so that lowerings and rules below see one backend's arrays or traced
values, and axes as tuples of non-negative ints.
"""

from __future__ import annotations

import numbers
import operator

from .. import backend as _backend
from ..core import Tracer, unwrap

AxisError = _backend.default().xp.exceptions.AxisError  # numpy's: a ValueError and IndexError
_of = _backend.of
_kind = _backend.kind


def _check_operand(x, k, fname="einsum", what="operand", like=None):
    """A traced value as it is; a plain operand as an array of its library (lists and
    Python scalars read as NumPy arrays, or as ``like``'s backend when given). Non-numeric
    ones raise TypeError naming ``what`` ``k`` of ``fname``."""
    if isinstance(x, Tracer):
        return x
    return _backend.to_array(x, k, fname, what, like)


def _backend_of(x):
    """The backend of an operand's value (under every level of tracing)."""
    return _of(unwrap(x))


def _operands(xs, fname="einsum", what="operand"):
    """Several operands of one call: checked, and of one library (TypeError naming both
    when two libraries meet); non-arrays and NumPy constants join the others' library."""
    values = [unwrap(x) for x in xs]
    bk = _backend.common(values, fname, what)
    out, dev = [], _UNSET
    for k, (x, v) in enumerate(zip(xs, values)):
        if not isinstance(x, Tracer):
            if dev is _UNSET and _of(v) is not bk:  # a conversion: onto the others' device
                dev = next((bk.device(u) for u in values if _of(u) is bk), None)
            x = _backend.to_array(x, k, fname, what, bk, None if dev is _UNSET else dev)
        out.append(x)
    return out, bk


_UNSET = object()


def _weak(x, like):
    """A Python scalar takes the dtype its library's promotion gives it next to ``like``
    (numpy: NEP 50), as a 0-d array on ``like``'s device."""
    v = unwrap(like)
    bk = _of(v)
    return bk.scalar(x, bk.weak_dtype(like.dtype, x), bk.device(v))


def _finish(out):
    """Plain results look like their library's: NumPy makes a 0-d result a numpy scalar."""
    if out.__class__ is Tracer:
        return out
    b = _of(out)
    return out if b is None else b.finish(out)


def _scalar_like(value, like, fname, what="value"):
    """A plain scalar (a Python number or a 0-d array of any library) as a 0-d array of
    ``like``'s library, dtype and device; anything else raises ValueError naming it."""
    if isinstance(value, Tracer) or len(getattr(value, "shape", ())) != 0 \
            or isinstance(value, (list, tuple, str, bytes)) or value is None:
        raise ValueError(f"{fname}: {what} must be a plain scalar, got "
                         f"{type(value).__name__} of shape {tuple(getattr(value, 'shape', ()))}")
    v = unwrap(like)
    bk = _of(v)
    if _of(value) is bk:
        return bk.astype(value, like.dtype)
    if _of(value) is not None:  # another library's 0-d array (a numpy scalar)
        value = value.item()
    return bk.scalar(value, like.dtype, bk.device(v))


def _shape_str(shape):
    return "(" + ",".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _broadcast(fname, *shapes):
    """numpy's broadcast of ``shapes`` (right-aligned; sizes equal or 1), in Python:
    ``np.broadcast_shapes`` refuses more than 32 dimensions, arrays may have 64."""
    shapes = [tuple(int(d) for d in s) for s in shapes]
    out = [1] * max((len(s) for s in shapes), default=0)
    for s in shapes:
        for i, d in enumerate(s, start=len(out) - len(s)):
            if d != out[i] and d != 1 and out[i] != 1:
                raise ValueError(
                    f"{fname}: operands could not be broadcast together with shapes "
                    + " ".join(_shape_str(s) for s in shapes)
                )
            if out[i] == 1:
                out[i] = d
    return tuple(out)


def _is_pyscalar(x):
    """A Python number (weakly typed next to an array), not an array library's scalar."""
    if x.__class__ in _PYSCALARS:
        return True
    return isinstance(x, numbers.Number) and _of(x) is None


_PYSCALARS = frozenset((int, float, complex, bool))
_BY_TYPE, _KINDS, _NUMERIC = _backend._BY_TYPE, _backend._KINDS, frozenset("biufc")


def _pair(a, b):
    """Two arithmetic operands of one library: Python scalars are weakly typed, as in
    numpy and the array API standard; NumPy constants join the other operand's library."""
    ca, cb = a.__class__, b.__class__
    if ca is cb and (ca is Tracer or (_BY_TYPE.get(ca) is not None
                                      and _KINDS.get(a.dtype) in _NUMERIC
                                      and _KINDS.get(b.dtype) in _NUMERIC)):
        return a, b  # the common case: what _check_operand returns them as
    if _is_pyscalar(a) and _is_pyscalar(b):
        return _backend.default().asarray(a), _backend.default().asarray(b)
    if _is_pyscalar(a):
        b = _check_operand(b, 1, "arithmetic")
        return _weak(a, b), b
    if _is_pyscalar(b):
        a = _check_operand(a, 0, "arithmetic")
        return a, _weak(b, a)
    (a, b), _ = _operands((a, b), "arithmetic")
    return a, b


def normalize_axes(axis, ndim: int, fname: str) -> tuple:
    """``axis`` (None, an int or a sequence of ints, negatives allowed) as a sorted tuple of
    distinct non-negative axes of an ``ndim``-dimensional array; ``None`` means all."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if not isinstance(axis, (tuple, list)) else axis
    out = []
    for ax in axes:
        try:
            ax = operator.index(ax)
        except TypeError:
            raise TypeError(
                f"{fname}: axis must be an int or a tuple of ints, got {axis!r}") from None
        if not -ndim <= ax < ndim:
            raise AxisError(
                f"{fname}: axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(ax % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _axis(ax, ndim, fname, argname=None):
    """Normalise one axis to ``0 <= ax < ndim``; numpy's AxisError when out of range."""
    if isinstance(ax, bool) or not isinstance(ax, numbers.Integral):
        raise TypeError(f"{fname}: {argname or 'axis'} must be an integer, got {ax!r}")
    ax = operator.index(ax)
    if not -ndim <= ax < ndim:
        raise AxisError(ax, ndim, f"{fname}: {argname}" if argname else fname)
    return ax % ndim


def _axis_tuple(axis, ndim, fname, argname="axis"):
    """``axis`` (None, an int or a sequence of ints) as a tuple of distinct axes."""
    if axis is None:
        return tuple(range(ndim))
    seq = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
    axes = tuple(_axis(a, ndim, fname, argname) for a in seq)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{fname}: duplicate value in '{argname}': {axis!r}")
    return axes


class _NoValueType:
    """The default of numpy's ``initial=``: "not given" (None is a value there)."""

    def __repr__(self):
        return "<no value>"


_NOVALUE = _NoValueType()


def store_out(res, out, fname, casting="unsafe"):
    """numpy's ``out=`` of a reduction: ``res`` written into ``out``, which is returned.

    Traced values are immutable, so a traced result with an ``out`` raises TypeError."""
    if out is None:
        return _finish(res)
    if isinstance(out, tuple) and len(out) == 1:
        out = out[0]
    if isinstance(res, Tracer) or isinstance(out, Tracer):
        raise TypeError(f"{fname}: out= cannot be used with traced values (result shape "
                        f"{tuple(res.shape)}): they are immutable; use the returned value")
    bk = _of(res)
    if _of(out) is not bk:
        raise TypeError(f"{fname}: out must be a {bk.name} array like the result, got "
                        f"{type(out).__name__}")
    if tuple(out.shape) != tuple(res.shape):
        raise ValueError(f"{fname}: out has shape {tuple(out.shape)}, the result has shape "
                         f"{tuple(res.shape)}")
    # numpy's reductions cast into out unchecked; einsum checks with its casting rule
    bk.store(out, res, casting)
    return out


def _zero_d_axis(a, axis):
    """numpy's ufunc reductions accept ``axis=0`` (or -1) on a 0-d array: no axis at all."""
    if a.ndim == 0 and not isinstance(axis, (bool, tuple, list)) \
            and isinstance(axis, numbers.Integral) and int(axis) in (0, -1):
        return ()
    return axis


def _where_mask(where, a, fname):
    """numpy's ``where=`` of a reduction: None for True (everything), else the boolean mask
    broadcast to ``a``'s shape, as a plain array (a mask is not differentiated: a traced
    one, such as a comparison of traced values, is read for its value)."""
    if where is True:
        return None
    where = unwrap(where)
    bk = _backend_of(a)
    # numpy casts a Python sequence to bool, but refuses a non-bool array
    dev = bk.device(unwrap(a))
    if isinstance(where, (list, tuple, bool)):
        where = bk.asarray(where, dtype=bk.bool, device=dev)
    else:
        where = _backend.to_array(where, 0, fname, "where mask", bk, dev)
    if _kind(where.dtype) != "b":
        raise TypeError(f"{fname}: where must be a boolean mask, got dtype {where.dtype}")
    try:
        shape = _broadcast(fname, tuple(where.shape), tuple(a.shape))
    except ValueError:
        shape = None
    if shape != tuple(a.shape):
        raise ValueError(f"{fname}: the where mask of shape {tuple(where.shape)} does not "
                         f"broadcast to the operand's shape {tuple(a.shape)}")
    return bk.broadcast_to(where, shape)
