"""The rule table, structural and reduction sections: indexing, concatenation, max/min.

Part of the one rule table (``rules.py`` imports it). Indexing is a pair of linear
primitives, each the other's transpose: ``getitem`` (a gather, ``x[index]``) and
``scatter_add`` (``np.add.at`` into zeros, so repeated indices accumulate). Reductions
other than max/min are einsum lowerings and have no rule here, except ``log_softmax``: one
node instead of the eight of its composite, on the hot path of every classifier's loss.
"""

from __future__ import annotations

import numpy as np

from .core import Primitive
from .rules import _fit_forward, div_p, einsum_p, mul, reshape_p, sub_p
from .rules_elementwise import equal_p, exp_p, stop_gradient_p, where_p
from .subscripts import Spec, symbol

__all__ = ["getitem_p", "scatter_add_p", "concatenate_p", "max_p", "min_p", "reduce_sum",
           "keep_shape", "log_softmax_p"]


# ======================================================================== structural


def is_advanced(index) -> bool:
    """Whether a normalised index tuple holds an integer array (numpy advanced indexing)."""
    return any(isinstance(k, np.ndarray) for k in index)


def _scatter_add_impl(g, *, index, shape):
    g = np.asarray(g)
    out = np.zeros(shape, dtype=g.dtype)
    if is_advanced(index):
        np.add.at(out, index, g)  # repeated indices accumulate
    else:
        out[index] = g  # basic indexing never selects an element twice
    return out


# ``index`` is a normalised tuple (slices, ints, None, Ellipsis, integer arrays): see
# ``structure.normalize_index``.
getitem_p = Primitive("getitem", lambda x, *, index: np.asarray(x)[index])
scatter_add_p = Primitive("scatter_add", _scatter_add_impl)

getitem_p.def_vjp(lambda ans, x, *, index: lambda g: (
    scatter_add_p(g, index=index, shape=tuple(x.shape)),))
getitem_p.def_jvp(lambda p, t, params: (getitem_p(p[0], **params), getitem_p(t[0], **params)))
scatter_add_p.def_vjp(lambda ans, g, *, index, shape: lambda c: (getitem_p(c, index=index),))
scatter_add_p.def_jvp(
    lambda p, t, params: (scatter_add_p(p[0], **params), scatter_add_p(t[0], **params)))


concatenate_p = Primitive("concatenate", lambda *xs, axis: np.concatenate(xs, axis=axis))


@concatenate_p.def_fwd_vjp
def _concatenate_fwd_vjp(args, params, argnums):
    ans = concatenate_p(*args, **params)
    axis = params["axis"] % ans.ndim  # the slices below count axes from the left
    stops = [int(s) for s in np.cumsum([a.shape[axis] for a in args])]
    lead = (slice(None),) * axis

    def vjp(g):
        return tuple(getitem_p(g, index=lead + (slice(stops[i] - args[i].shape[axis],
                                                       stops[i]),))
                     for i in argnums)

    return ans, vjp


@concatenate_p.def_jvp
def _concatenate_jvp(primals, tangents, params):
    ans = concatenate_p(*primals, **params)
    tans = [np.zeros(p.shape, dtype=ans.dtype) if t is None else t
            for p, t in zip(primals, tangents)]
    return ans, _fit_forward(concatenate_p(*tans, **params), ans)


# ======================================================================== reductions


def keep_shape(shape, axis) -> tuple:
    """``shape`` with the (normalised, non-negative) ``axis`` tuple set to 1."""
    return tuple(1 if i in axis else d for i, d in enumerate(shape))


def reduce_sum(x, axis, keepdims=False):
    """Sum over the normalised ``axis`` tuple: one einsum node (plus a reshape for
    ``keepdims``)."""
    labels = "".join(symbol(i) for i in range(len(x.shape)))
    out = "".join(lab for i, lab in enumerate(labels) if i not in axis)
    s = einsum_p(x, spec=Spec((labels,), out), optimize=False)
    return reshape_p(s, shape=keep_shape(x.shape, axis)) if keepdims else s


def _winners(ans, x, axis, keepdims):
    """The mask of the elements equal to the extremum, and their count (at least 1) along
    ``axis`` with kept dimensions: constants, whatever the trace."""
    kshape = keep_shape(x.shape, axis)
    mask = equal_p(x, np.reshape(stop_gradient_p(ans), kshape))
    count = np.maximum(np.count_nonzero(mask, axis=axis, keepdims=True), 1)
    return mask, count


def _spread_evenly(t, mask, count):
    """``t`` (kept dimensions) at the winners, split evenly among ties, zero elsewhere."""
    if np.any(count > 1):
        t = div_p(t, count.astype(t.dtype))
    return where_p(mask, t, np.zeros((), dtype=t.dtype))


def _extremum(name, reduce):
    """A max/min reduction. Ties split the derivative equally among the tied elements
    (JAX's convention); NaN propagates to the value and gives zero derivative."""
    p = Primitive(name, lambda x, *, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims))

    @p.def_vjp
    def _vjp(ans, x, *, axis, keepdims):
        def vjp(g):
            mask, count = _winners(ans, x, axis, keepdims)
            gk = g if keepdims else reshape_p(g, shape=keep_shape(x.shape, axis))
            return (_spread_evenly(gk, mask, count),)
        return vjp

    @p.def_jvp
    def _jvp(primals, tangents, params):
        x, t = primals[0], tangents[0]
        ans = p(x, **params)
        axis, keepdims = params["axis"], params["keepdims"]
        mask, count = _winners(ans, x, axis, keepdims)
        if np.any(count > 1):
            t = div_p(t, count.astype(t.dtype))
        tan = reduce_sum(where_p(mask, t, np.zeros((), dtype=t.dtype)), axis, keepdims)
        return ans, _fit_forward(tan, ans)

    return p


max_p = _extremum("max", np.max)
min_p = _extremum("min", np.min)


def _log_softmax_impl(x, *, axis):
    """``z - log(sum(exp(z)))`` with ``z = x - max(x)`` over the normalised, non-empty
    ``axis`` tuple (kept dimensions), as ``reductions.log_softmax``'s composite computes
    it: a non-finite maximum shifts by 0, log(0) is -inf without a warning."""
    m = np.max(x, axis=axis, keepdims=True)
    finite = np.isfinite(m)
    if finite.all():
        z = np.subtract(x, m)
        return np.subtract(z, np.log(np.sum(np.exp(z), axis=axis, keepdims=True)))
    z = np.subtract(x, np.where(finite, m, np.zeros((), dtype=m.dtype)))
    with np.errstate(divide="ignore"):
        return np.subtract(z, np.log(np.sum(np.exp(z), axis=axis, keepdims=True)))


# Its derivative needs only its value: softmax = exp(ans), and the shift is a constant
# (log_softmax does not change when x moves along (1, ..., 1)). VJP: g - softmax sum(g);
# JVP: t - sum(softmax t). Both are made of primitives, so they differentiate again.
log_softmax_p = Primitive("log_softmax", _log_softmax_impl)
log_softmax_p.def_vjp(lambda ans, x, *, axis: lambda g: (
    sub_p(g, mul(exp_p(ans), reduce_sum(g, axis, keepdims=True))),))


@log_softmax_p.def_jvp
def _log_softmax_jvp(primals, tangents, params):
    ans = log_softmax_p(primals[0], **params)
    t = tangents[0]
    return ans, _fit_forward(
        sub_p(t, reduce_sum(mul(exp_p(ans), t), params["axis"], keepdims=True)), ans)
