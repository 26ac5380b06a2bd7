"""numpy's extra reduction arguments, shared by the reductions: ``out=``, ``initial=``'s
"no value", ``where=`` masks, and ``axis=0`` on 0-d arrays."""

from __future__ import annotations

import numbers

import numpy as np

from ..core import Tracer, unwrap
from .multilinear import _finish


class _NoValueType:
    """The default of numpy's ``initial=``: "not given" (None is a value there)."""

    def __repr__(self):
        return "<no value>"


_NOVALUE = _NoValueType()


def _store_out(res, out, fname):
    """numpy's ``out=`` of a reduction: ``res`` written into ``out``, which is returned.

    Traced values are immutable, so a traced result with an ``out`` raises TypeError."""
    if out is None:
        return _finish(res)
    if isinstance(out, tuple) and len(out) == 1:
        out = out[0]
    if isinstance(res, Tracer) or isinstance(out, Tracer):
        raise TypeError(f"{fname}: out= cannot be used with traced values (result shape "
                        f"{tuple(res.shape)}): they are immutable; use the returned value")
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fname}: out must be a numpy array, got {type(out).__name__}")
    if out.shape != np.shape(res):
        raise ValueError(f"{fname}: out has shape {out.shape}, the result has shape "
                         f"{np.shape(res)}")
    np.copyto(out, res, casting="unsafe")  # numpy's reductions cast into out unchecked
    return out


def _zero_d_axis(a, axis):
    """numpy's ufunc reductions accept ``axis=0`` (or -1) on a 0-d array: no axis at all."""
    if a.ndim == 0 and not isinstance(axis, (bool, tuple, list)) \
            and isinstance(axis, (numbers.Integral, np.integer)) and int(axis) in (0, -1):
        return ()
    return axis


def _where_mask(where, a, fname):
    """numpy's ``where=`` of a reduction: None for True (everything), else the boolean mask
    broadcast to ``a``'s shape, as a plain array (a mask is not differentiated: a traced
    one, such as a comparison of traced values, is read for its value)."""
    if where is True:
        return None
    where = unwrap(where)
    # numpy casts a Python sequence to bool, but refuses a non-bool array
    where = np.asarray(where, dtype=bool) if isinstance(where, (list, tuple)) else \
        np.asarray(where)
    if where.dtype.kind != "b":
        raise TypeError(f"{fname}: where must be a boolean mask, got dtype {where.dtype}")
    try:
        shape = np.broadcast_shapes(where.shape, tuple(a.shape))
    except ValueError:
        shape = None
    if shape != tuple(a.shape):
        raise ValueError(f"{fname}: the where mask of shape {where.shape} does not "
                         f"broadcast to the operand's shape {tuple(a.shape)}")
    return np.broadcast_to(where, shape)
