"""The rule table, structural section: reshape, broadcast, casts, indexing, concatenation.

Part of the one rule table (``rules/__init__.py`` lists every primitive). These are linear:
each one's derivative is the primitive itself or its transpose, so every rule here is
written with primitives of this section and differentiates again. Indexing is a pair of
primitives, each the other's transpose: ``getitem`` (a gather, ``x[index]``) and
``scatter_add`` (the backend's scatter-add into zeros, so repeated indices accumulate).
"""

from __future__ import annotations

from itertools import accumulate

from .. import backend as _backend
from ..core import Primitive
from .constants import kind, zeros

__all__ = ["reshape_p", "broadcast_to_p", "astype_p", "getitem_p", "scatter_add_p",
           "concatenate_p", "fit_forward"]

_of = _backend.of

# ======================================================================== shapes

reshape_p = Primitive("reshape", lambda x, *, shape: _of(x).reshape(x, shape))
reshape_p.def_vjp(lambda ans, x, *, shape: lambda g: (reshape_p(g, shape=tuple(x.shape)),))
reshape_p.def_jvp(lambda p, t, params: (reshape_p(p[0], **params), reshape_p(t[0], **params)))

broadcast_to_p = Primitive("broadcast_to", lambda x, *, shape: _of(x).broadcast_to(x, shape))
# the cotangent has the broadcast shape; the backward pass's ``fit`` sums it back
broadcast_to_p.def_vjp(lambda ans, x, *, shape: lambda g: (g,))
broadcast_to_p.def_jvp(
    lambda p, t, params: (broadcast_to_p(p[0], **params), broadcast_to_p(t[0], **params)))


# ======================================================================== casts


def _astype_impl(x, *, dtype):
    bk = _of(x)
    if kind(x.dtype) == "c" and kind(dtype) != "c":
        x = bk.real(x)
    return bk.astype(x, dtype)


astype_p = Primitive("astype", _astype_impl)


def _casts_to_inexact(dtype) -> bool:
    """A cast to an integer or bool dtype is piecewise constant: its derivative is zero
    (as in JAX); a cast between floating/complex dtypes passes the derivative on."""
    return kind(dtype) in "fc"


astype_p.def_vjp(lambda ans, x, *, dtype: lambda g: (
    astype_p(g, dtype=x.dtype) if _casts_to_inexact(dtype) else None,))
astype_p.def_jvp(lambda p, t, params: (
    astype_p(p[0], **params),
    astype_p(t[0], **params) if _casts_to_inexact(params["dtype"]) else None))


def fit_forward(tan, ans):
    """A forward-mode tangent brought to its primal's shape and dtype."""
    if tan is None:
        return None
    if tuple(tan.shape) != tuple(ans.shape):
        tan = broadcast_to_p(tan, shape=tuple(ans.shape))
    if tan.dtype != ans.dtype:
        tan = astype_p(tan, dtype=ans.dtype)
    return tan


# ======================================================================== indexing
#
# ``index`` is a normalised tuple (slices, ints, None, Ellipsis, integer arrays of the
# operand's backend): see ``numpy.structure.normalize_index``.

getitem_p = Primitive("getitem", lambda x, *, index: _of(x).getitem(x, index))
scatter_add_p = Primitive(
    "scatter_add", lambda g, *, index, shape: _of(g).scatter_add(g, index, shape))

getitem_p.def_vjp(lambda ans, x, *, index: lambda g: (
    scatter_add_p(g, index=index, shape=tuple(x.shape)),))
getitem_p.def_jvp(lambda p, t, params: (getitem_p(p[0], **params), getitem_p(t[0], **params)))
scatter_add_p.def_vjp(lambda ans, g, *, index, shape: lambda c: (getitem_p(c, index=index),))
scatter_add_p.def_jvp(
    lambda p, t, params: (scatter_add_p(p[0], **params), scatter_add_p(t[0], **params)))


# ======================================================================== joining

concatenate_p = Primitive("concatenate",
                          lambda *xs, axis: _of(xs[0]).concat(list(xs), axis=axis))


@concatenate_p.def_fwd_vjp
def _concatenate_fwd_vjp(args, params, argnums):
    ans = concatenate_p(*args, **params)
    axis = params["axis"] % ans.ndim  # the slices below count axes from the left
    stops = list(accumulate(a.shape[axis] for a in args))
    lead = (slice(None),) * axis

    def vjp(g):
        return tuple(getitem_p(g, index=lead + (slice(stops[i] - args[i].shape[axis],
                                                       stops[i]), Ellipsis))
                     for i in argnums)

    return ans, vjp


@concatenate_p.def_jvp
def _concatenate_jvp(primals, tangents, params):
    ans = concatenate_p(*primals, **params)
    tans = [zeros(p.shape, ans) if t is None else t for p, t in zip(primals, tangents)]
    return ans, fit_forward(concatenate_p(*tans, **params), ans)
