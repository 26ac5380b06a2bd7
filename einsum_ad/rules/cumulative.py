"""The rule table, cumulative section: cumulative sums and products, the linear recurrence
their derivatives need, and the product reduction.

Part of the one rule table (``rules/__init__.py`` lists every primitive). No rule divides
by the input, so every derivative is exact where the input holds zeros:

* ``cumsum`` is linear; its transpose is the cumulative sum from the other end.
* ``linrec`` is the first-order linear recurrence ``s[k] = a[k] s[k-1] + b[k]`` (``s[-1] =
  0``; ``reverse`` runs it from the end). Its tangent is the same recurrence driven by
  ``db + da s[k-1]``, and its cotangent the reverse recurrence with ``a`` shifted by one:
  both are ``linrec`` again, so it differentiates to any order.
* ``cumprod``: ``y[k] = x[k] y[k-1]`` is ``linrec`` in disguise, so its tangent is
  ``linrec(x, E dx)`` and its cotangent ``E * linrec_reversed(x shifted, g)``, where ``E``
  is the exclusive cumulative product (``y`` shifted by one, 1 entering).
* ``prod``: the derivative with respect to each element is the product of all the
  others, ``L * R`` with ``L`` and ``R`` the exclusive cumulative products from both
  sides (over the reduced axes flattened into one), never ``prod / x``.

Batching (for vmap): every primitive here works along one axis (or the reduced axes) and
is elementwise across the others: batch by shifting the axis past the new batch axis.
"""

from __future__ import annotations

import math

from .. import backend as _backend
from ..core import Primitive, unwrap
from ..spec import Spec, symbol
from .einsum import einsum_p, mul
from .linear import add_p
from .reductions import keep_shape, reduce_sum
from .structural import concatenate_p, fit_forward, getitem_p, reshape_p

__all__ = ["cumsum_p", "cumprod_p", "linrec_p", "prod_p", "exclusive_cumprod", "shift"]

_of = _backend.of


# ======================================================================== helpers


def _full(shape, value, like):
    """A constant of ``shape`` holding ``value`` in ``like``'s dtype, on its device."""
    v = unwrap(like)
    bk = _of(v)
    return bk.full(tuple(shape), value, dtype=like.dtype, device=bk.device(v))


def _part(x, axis, lo, hi):
    return getitem_p(x, index=(slice(None),) * axis + (slice(lo, hi), Ellipsis))


def shift(x, axis, reverse, fill):
    """``x`` moved one place along ``axis`` (towards higher indices; towards lower ones
    when ``reverse``), the vacated place holding ``fill`` and the last element dropped."""
    n = x.shape[axis]
    if n == 0:
        return x
    edge = _full(tuple(1 if i == axis else d for i, d in enumerate(x.shape)), fill, x)
    if reverse:
        return concatenate_p(_part(x, axis, 1, n), edge, axis=axis)
    return concatenate_p(edge, _part(x, axis, 0, n - 1), axis=axis)


def exclusive_cumprod(x, axis, reverse=False):
    """The product of the elements strictly before each one along ``axis`` (strictly
    after, when ``reverse``): a cumulative product shifted by one, 1 entering."""
    return shift(cumprod_p(x, axis=axis, reverse=reverse), axis, reverse, 1)


# ======================================================================== cumulative sum

cumsum_p = Primitive("cumsum", lambda x, *, axis, reverse: _of(x).cumsum(x, axis, reverse))
# batch: shift axis
cumsum_p.def_vjp(lambda ans, x, *, axis, reverse: lambda g: (
    cumsum_p(g, axis=axis, reverse=not reverse),))
cumsum_p.def_jvp(lambda p, t, params: (cumsum_p(p[0], **params), cumsum_p(t[0], **params)))


# ======================================================================== linear recurrence


def _linrec_impl(a, b, *, axis, reverse):
    bk = _of(b)
    dt = bk.result_type(a.dtype, b.dtype)
    a, b = bk.broadcast_arrays(bk.astype(a, dt), bk.astype(b, dt))
    return bk.linear_recurrence(a, b, axis, reverse)


linrec_p = Primitive("linrec", _linrec_impl)
# batch: shift axis (a and b batched alike; an unbatched one broadcasts)


@linrec_p.def_fwd_vjp
def _linrec_fwd_vjp(args, params, argnums):
    a, b = args
    axis, reverse = params["axis"], params["reverse"]
    ans = linrec_p(a, b, **params)

    def vjp(g):
        # lam[k] = g[k] + a[k+1] lam[k+1]: the recurrence run the other way, a shifted
        lam = linrec_p(shift(a, axis, not reverse, 0), g, axis=axis, reverse=not reverse)
        return tuple(lam if i == 1 else mul(lam, shift(ans, axis, reverse, 0))
                     for i in argnums)

    return ans, vjp


@linrec_p.def_jvp
def _linrec_jvp(primals, tangents, params):
    a, b = primals
    ta, tb = tangents
    ans = linrec_p(a, b, **params)
    drive = tb
    if ta is not None:
        term = mul(ta, shift(ans, params["axis"], params["reverse"], 0))
        drive = term if drive is None else add_p(drive, term)
    drive = fit_forward(drive, ans)
    return ans, linrec_p(a, drive, **params)


# ======================================================================== cumulative product

cumprod_p = Primitive("cumprod", lambda x, *, axis, reverse: _of(x).cumprod(x, axis, reverse))
# batch: shift axis


@cumprod_p.def_vjp
def _cumprod_vjp(ans, x, *, axis, reverse):
    def vjp(g):
        lam = linrec_p(shift(x, axis, not reverse, 0), g, axis=axis, reverse=not reverse)
        return (mul(lam, shift(ans, axis, reverse, 1)),)
    return vjp


@cumprod_p.def_jvp
def _cumprod_jvp(primals, tangents, params):
    x, t = primals[0], tangents[0]
    ans = cumprod_p(x, **params)
    drive = fit_forward(mul(t, shift(ans, params["axis"], params["reverse"], 1)), ans)
    return ans, linrec_p(x, drive, **params)


# ======================================================================== product


def _others_products(x, axis):
    """For each element of ``x``, the product of the other elements over the normalised
    ``axis`` tuple: the exclusive cumulative products from both sides, multiplied, over
    those axes moved last and flattened into one (no division: exact with zeros)."""
    if not axis:
        return _full((), 1, x)
    if len(axis) == 1:
        (ax,) = axis
        return mul(exclusive_cumprod(x, ax), exclusive_cumprod(x, ax, reverse=True))
    nd = len(x.shape)
    rest = [i for i in range(nd) if i not in axis]
    order = rest + list(axis)
    labels = "".join(symbol(i) for i in range(nd))
    moved = einsum_p(x, spec=Spec((labels,), "".join(labels[i] for i in order)),
                     optimize=False)
    lead = tuple(x.shape[i] for i in rest)
    flat = reshape_p(moved, shape=lead + (math.prod(x.shape[i] for i in axis),))
    k = len(lead)
    both = mul(exclusive_cumprod(flat, k), exclusive_cumprod(flat, k, reverse=True))
    both = reshape_p(both, shape=tuple(moved.shape))
    return einsum_p(both, spec=Spec(("".join(labels[i] for i in order),), labels),
                    optimize=False)


# dtype=x's: the namespace chose the accumulator (numpy would widen small integers)
prod_p = Primitive("prod", lambda x, *, axis, keepdims: _of(x).prod(
    x, axis=axis, dtype=x.dtype, keepdims=keepdims))
# batch: shift axes


@prod_p.def_vjp
def _prod_vjp(ans, x, *, axis, keepdims):
    def vjp(g):
        gk = g if keepdims else reshape_p(g, shape=keep_shape(x.shape, axis))
        return (mul(gk, _others_products(x, axis)),)
    return vjp


@prod_p.def_jvp
def _prod_jvp(primals, tangents, params):
    x, t = primals[0], tangents[0]
    ans = prod_p(x, **params)
    tan = reduce_sum(mul(t, _others_products(x, params["axis"])), params["axis"],
                     params["keepdims"])
    return ans, fit_forward(tan, ans)
