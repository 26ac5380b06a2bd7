"""Non-multilinear reductions: ``max``/``min`` (``amax``/``amin``), ``logsumexp``,
``softmax`` and ``log_softmax``, with numpy's (and scipy's) signatures.

``max``/``min`` are primitives of the rule table (``rules_structural.py``), and so is
``log_softmax`` of a floating array (one node); the others (and log_softmax of other
dtypes or over an empty axis) are stable composites of primitives (shifted by a constant
maximum) and need no rule of their own. ``sum`` and ``mean`` are einsum lowerings (``axes.py``).
"""

from __future__ import annotations

import builtins
import math

from .. import backend as _backend
from .. import rules
from ..core import unwrap
from ..rules import (
    abs_p,
    exp_p,
    log_p,
    log_softmax_p,
    max_p,
    maximum_p,
    min_p,
    minimum_p,
    reduce_sum,
    sign_p,
    stop_gradient_p,
    where_p,
)
from ._args import (
    _NOVALUE,
    _backend_of,
    _broadcast,
    _check_operand,
    _finish,
    _scalar_like,
    _where_mask,
    _zero_d_axis,
    normalize_axes,
    store_out,
)
from .multilinear import multiply

_kind = _backend.kind

__all__ = ["max", "min", "amax", "amin", "logsumexp", "softmax", "log_softmax"]


def _extremum(prim, pair_prim, name, a, axis, out, keepdims, initial, where):
    x = _check_operand(a, 0, name)
    axes = normalize_axes(_zero_d_axis(x, axis), x.ndim, name)
    mask = _where_mask(where, x, name)
    if initial is not _NOVALUE:
        initial = _scalar_like(initial, x, name, "initial")
    if mask is not None:
        if initial is _NOVALUE:
            raise ValueError(f"{name}: where= needs initial= (the {name} of no elements is "
                             "undefined, and where= may select none)")
        x = where_p(mask, x, initial)
    if builtins.any(x.shape[ax] == 0 for ax in axes):
        if initial is _NOVALUE:
            raise ValueError(f"{name}: zero-size reduction over axis {axis} of an array of "
                             f"shape {tuple(x.shape)}; the {name} of no elements is undefined "
                             "(give initial=)")
        # nothing to reduce: initial everywhere, still connected to x (zero derivative)
        res = rules.add_p(reduce_sum(x, axes, keepdims=bool(keepdims)), initial)
        return store_out(res, out, name)
    res = prim(x, axis=axes, keepdims=bool(keepdims))
    if initial is not _NOVALUE:
        res = pair_prim(res, initial)
    return store_out(res, out, name)


def max(a, /, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    """The maximum over ``axis`` (None: all axes; an int or a tuple; negatives count from
    the end), with numpy's signature (``a`` positional-only, as the standard's
    ``max(x, /, *, axis, keepdims)``). NaN propagates. Ties split the derivative equally
    among the tied maxima (as JAX does).

    ``initial`` (a scalar) takes part in the maximum (``maximum(max(a), initial)``; it is
    the result of an empty reduction); ``where`` (a boolean mask broadcastable to ``a``,
    needs ``initial``) leaves out the unselected elements. ``out`` (plain arrays only)
    receives the result and is returned. A 0-d ``a`` accepts ``axis=0`` or ``-1``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.grad(lambda x: ea.max(x))(np.array([1.0, 3.0, 3.0]))
        array([0. , 0.5, 0.5])
        >>> ea.max(np.array([1.0, 5.0]), initial=2.0, where=np.array([True, False]))
        np.float64(2.0)
    """
    return _extremum(max_p, maximum_p, "max", a, axis, out, keepdims, initial, where)


def min(a, /, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    """The minimum over ``axis``; like :func:`max` (ties split the derivative equally)."""
    return _extremum(min_p, minimum_p, "min", a, axis, out, keepdims, initial, where)


amax, amin = max, min


def _shift(x, axes):
    """``x`` minus its (constant) maximum over ``axes`` and that maximum (kept dims). A
    non-finite maximum (all -inf, or inf) shifts by 0, so that infinities propagate as
    numpy's would; an empty reduction shifts by nothing (None)."""
    if builtins.any(x.shape[ax] == 0 for ax in axes):
        return x, None
    m = max_p(stop_gradient_p(x), axis=axes, keepdims=True)
    bk = _backend_of(m)
    m = bk.where(bk.isfinite(m), m, bk.const(0, m))
    return rules.sub_p(x, m), m


def _log_sum_exp(z, axes):
    """``log(sum(exp(z), axes))`` with kept dimensions; log(0) = -inf without a warning."""
    s = reduce_sum(exp_p(z), axes, keepdims=True)
    with _backend_of(s).quiet():
        return log_p(s)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a), axis))``, computed stably (shifted by the maximum): finite for
    inputs of 1e4 and beyond. scipy's signature ``(a, axis, b, keepdims, return_sign)``.

    Its derivative is ``softmax(a, axis)`` (weighted by ``b`` when given); an empty sum
    gives -inf, as in scipy. A 0-d ``a`` accepts ``axis=0`` or ``-1``.

    Args:
        a: the exponents.
        axis: None (all axes), an int or a tuple.
        b: optional weights broadcast with ``a`` (plain or traced; may be negative or 0:
            a weight of 0 leaves its element out of the shift).
        keepdims: keep the reduced axes with size 1.
        return_sign: return ``(log|sum|, sign(sum))``, so that a negative weighted sum has
            a finite result (the sign is not differentiated); without it, a negative sum
            gives NaN, as in scipy.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.logsumexp(np.array([1e4, 1e4])) - 1e4  # log 2
        np.float64(0.6931471805601177)
        >>> ea.logsumexp(np.array([0.0, 1e4]), b=np.array([2.0, 0.0]))  # log 2
        np.float64(0.6931471805599453)
    """
    x = _check_operand(a, 0, "logsumexp")
    w = None if b is None else _check_operand(b, 1, "logsumexp", like=_backend_of(x))
    if w is not None:
        try:
            shape = _broadcast("logsumexp", tuple(x.shape), tuple(w.shape))
        except ValueError:
            raise ValueError(f"logsumexp: b of shape {tuple(w.shape)} does not broadcast "
                             f"with a of shape {tuple(x.shape)}") from None
        if tuple(x.shape) != shape:
            x = rules.broadcast_to_p(x, shape=shape)
    axes = normalize_axes(_zero_d_axis(x, axis), x.ndim, "logsumexp")
    if w is None:
        z, m = _shift(x, axes)
        terms = exp_p(z)
    else:
        m = None
        bk = _backend_of(x)
        if not builtins.any(x.shape[ax] == 0 for ax in axes):  # the shift, a constant
            xv, wv = unwrap(x), unwrap(w)
            weighted = bk.not_equal(bk.broadcast_to(wv, tuple(x.shape)), bk.const(0, wv))
            xf = bk.astype(xv, bk.weak_dtype(x.dtype, 1.0)) if _kind(x.dtype) in "biu" else xv
            m = bk.max(bk.where(weighted, xf, bk.const(-math.inf, xf)), axis=axes,
                       keepdims=True)
            m = bk.astype(bk.where(bk.isfinite(m), m, bk.const(0, m)), x.dtype)
        z = x if m is None else rules.sub_p(x, m)
        if _kind(z.dtype) in "biuf":
            # only a zero-weight element can lie above the shift: cap it (a constant)
            # where its exp would overflow, so that 0 * exp never makes a NaN
            cap = math.log(bk.finfo(bk.weak_dtype(z.dtype, 1.0)).max) / 2
            over = bk.greater(unwrap(z), bk.scalar(cap, bk.weak_dtype(z.dtype, 1.0),
                                                   bk.device(unwrap(z))))
            if not bk.values_on_host or bool(bk.any(over)):
                z = where_p(over, bk.scalar(cap, z.dtype, bk.device(unwrap(z))), z)
        terms = multiply(w, exp_p(z))
    total = reduce_sum(terms, axes, keepdims=True)
    sign = None
    if return_sign:
        sign = sign_p(total)
        total = abs_p(total)
    with _backend_of(total).quiet():
        out = log_p(total)
    if m is not None:
        out = rules.add_p(out, m)
    if not keepdims:
        kept = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        out = rules.reshape_p(out, shape=kept)
        sign = None if sign is None else rules.reshape_p(sign, shape=kept)
    return _finish(out) if sign is None else (_finish(out), _finish(sign))


def softmax(a, axis=-1):
    """``exp(a) / sum(exp(a), axis, keepdims=True)``, stably (shifted by the maximum).

    ``axis`` (an int or a tuple) defaults to the last axis, as in JAX and PyTorch; None
    means all axes.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.softmax(np.array([1e4, 1e4]))
        array([0.5, 0.5])
    """
    x = _check_operand(a, 0, "softmax")
    axes = normalize_axes(axis, x.ndim, "softmax")
    e = exp_p(_shift(x, axes)[0])
    return _finish(rules.div_p(e, reduce_sum(e, axes, keepdims=True)))


def log_softmax(a, axis=-1):
    """``a - logsumexp(a, axis, keepdims=True)``, stably; ``axis`` as in :func:`softmax`."""
    x = _check_operand(a, 0, "log_softmax")
    axes = normalize_axes(axis, x.ndim, "log_softmax")
    if axes and _kind(x.dtype) == "f" and builtins.all(x.shape[ax] for ax in axes):
        return _finish(log_softmax_p(x, axis=axes))  # one node, the composite's values
    z = _shift(x, axes)[0]
    return _finish(rules.sub_p(z, _log_sum_exp(z, axes)))
