"""The rule table, reduction section: max/min, log_softmax, and sums as einsum nodes.

Part of the one rule table (``rules/__init__.py`` lists every primitive). Sums and means
are einsum lowerings and have no rule here; max/min are primitives whose derivative
selects the winners (ties split evenly), and ``log_softmax`` is one node instead of the
eight of its composite, on the hot path of every classifier's loss. No rule reads a value
to decide a branch (a Dask array would be computed, a GPU synchronised).
"""

from __future__ import annotations

from .. import backend as _backend
from ..core import Primitive
from ..spec import Spec, symbol
from .constants import const, zero
from .einsum import einsum_p, mul
from .elementwise import div_p, equal_p, exp_p, maximum_p, stop_gradient_p, where_p
from .linear import sub_p
from .structural import astype_p, fit_forward, reshape_p

__all__ = ["max_p", "min_p", "reduce_sum", "keep_shape", "log_softmax_p"]

_of = _backend.of


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


def _winners(ans, x, axis, keepdims, dtype):
    """The mask of the elements equal to the extremum, and their count (at least 1, in
    ``dtype``) along ``axis`` with kept dimensions: constants of every derivative trace
    (computed with non-differentiable primitives, so that a batched or compiled value is
    batched or recorded like any other)."""
    mask = equal_p(x, reshape_p(stop_gradient_p(ans), shape=keep_shape(x.shape, axis)))
    count = reduce_sum(astype_p(mask, dtype=dtype), axis, keepdims=True)
    return mask, maximum_p(count, const(1, count))


def _spread_evenly(t, mask, count):
    """``t`` (kept dimensions) at the winners, split evenly among ties, zero elsewhere
    (a division by a count of 1 is exact: no branch on the values is needed)."""
    return where_p(mask, div_p(t, count), zero(t))


def _extremum(name, reduce):
    """A max/min reduction. Ties split the derivative equally among the tied elements
    (JAX's convention); NaN propagates to the value and gives zero derivative."""
    p = Primitive(name, lambda x, *, axis, keepdims: reduce(x, axis=axis, keepdims=keepdims))

    @p.def_vjp
    def _vjp(ans, x, *, axis, keepdims):
        def vjp(g):
            mask, count = _winners(ans, x, axis, keepdims, g.dtype)
            gk = g if keepdims else reshape_p(g, shape=keep_shape(x.shape, axis))
            return (_spread_evenly(gk, mask, count),)
        return vjp

    @p.def_jvp
    def _jvp(primals, tangents, params):
        x, t = primals[0], tangents[0]
        ans = p(x, **params)
        axis, keepdims = params["axis"], params["keepdims"]
        mask, count = _winners(ans, x, axis, keepdims, t.dtype)
        tan = reduce_sum(where_p(mask, div_p(t, count), zero(t)), axis, keepdims)
        return ans, fit_forward(tan, ans)

    return p


max_p = _extremum("max", lambda x, axis, keepdims: _of(x).max(x, axis=axis, keepdims=keepdims))
min_p = _extremum("min", lambda x, axis, keepdims: _of(x).min(x, axis=axis, keepdims=keepdims))


def _log_softmax_impl(x, *, axis):
    """``z - log(sum(exp(z)))`` with ``z = x - max(x)`` over the normalised, non-empty
    ``axis`` tuple (kept dimensions), as ``numpy.reductions.log_softmax``'s composite
    computes it: a non-finite maximum shifts by 0, log(0) is -inf without a warning. The
    shift is selected elementwise on the (small) maximum: no branch on the values."""
    bk = _of(x)
    m = bk.max(x, axis=axis, keepdims=True)
    m = bk.where(bk.isfinite(m), m, bk.const(0, m))
    z = bk.subtract(x, m)
    with bk.quiet():
        return bk.subtract(z, bk.log(bk.sum(bk.exp(z), axis=axis, keepdims=True)))


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
    return ans, fit_forward(
        sub_p(t, reduce_sum(mul(exp_p(ans), t), params["axis"], keepdims=True)), ans)


# ======================================================================== batching
#
# The reduced axes shift past the batch axis, which stays where it is.

from .batching import reduction as _batch_reduction  # noqa: E402

for _p in (max_p, min_p, log_softmax_p):
    _p.def_batch(_batch_reduction(_p))
