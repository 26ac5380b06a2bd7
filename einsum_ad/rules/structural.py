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


# ======================================================================== batching
#
# Structural primitives shift their axes past the batch axis; a reshape or a broadcast
# first brings the batch axis to the front (its layout is C order over every axis).

from .batching import batch_size, elementwise, moveaxis, to_front  # noqa: E402


@reshape_p.def_batch
def _reshape_batch(args, dims, params):
    x = to_front(args[0], dims[0])
    return reshape_p(x, shape=(x.shape[0],) + tuple(params["shape"])), 0


@broadcast_to_p.def_batch
def _broadcast_to_batch(args, dims, params):
    x = to_front(args[0], dims[0])
    shape = tuple(params["shape"])
    xs = tuple(x.shape)
    pad = len(shape) - (len(xs) - 1)
    if pad:
        x = reshape_p(x, shape=xs[:1] + (1,) * pad + xs[1:])
    return broadcast_to_p(x, shape=xs[:1] + shape), 0


astype_p.def_batch(elementwise(astype_p))


def _is_array_index(k) -> bool:
    return not (k is None or k is Ellipsis or isinstance(k, (slice, int)))


def _batch_position(index) -> int:
    """Where ``x[(slice(None),) + index]`` puts the batch axis (the first axis of ``x``):
    first, unless the index's advanced entries (integer arrays, and ints next to them) are
    not side by side: numpy then puts their broadcast axes first."""
    if not any(_is_array_index(k) for k in index):
        return 0
    adv = [i for i, k in enumerate(index) if _is_array_index(k) or isinstance(k, int)]
    if adv == list(range(adv[0], adv[-1] + 1)):
        return 0
    nd = 0
    for k in index:
        if _is_array_index(k):
            nd = max(nd, len(k.shape))
    return nd


@getitem_p.def_batch
def _getitem_batch(args, dims, params):
    index = tuple(params["index"])
    x = to_front(args[0], dims[0])
    return getitem_p(x, index=(slice(None),) + index), _batch_position(index)


@scatter_add_p.def_batch
def _scatter_add_batch(args, dims, params):
    index = tuple(params["index"])
    g = moveaxis(args[0], dims[0], _batch_position(index))
    shape = (args[0].shape[dims[0]],) + tuple(params["shape"])
    return scatter_add_p(g, index=(slice(None),) + index, shape=shape), 0


@concatenate_p.def_batch
def _concatenate_batch(args, dims, params):
    n = batch_size(args, dims)
    d0 = dims[0]
    axis = params["axis"] % (len(args[0].shape) - (d0 is not None))
    xs = [broadcast_to_p(x, shape=(n,) + tuple(x.shape)) if d is None else to_front(x, d)
          for x, d in zip(args, dims)]
    return concatenate_p(*xs, axis=axis + 1), 0
