"""Statistical functions beyond sums and means: products, cumulative sums and products,
variance and standard deviation.

The array API standard's signatures (``x`` positional-only; ``axis``, ``dtype``,
``keepdims``, ``include_initial``, ``correction``), with numpy's extra arguments beside
them (``out``, ``initial``, ``where``, ``ddof``, ``mean``) and numpy's names
(``cumsum``, ``cumprod``, which flatten for ``axis=None``). ``prod``, ``cumsum`` and
``cumprod`` are primitives (``rules/cumulative.py``: derivatives exact where the input
holds zeros); ``var`` and ``std`` are composites of the mean, a difference, a product and
a sum, so their derivatives need no rule of their own. ``sum``, ``mean`` (``axes.py``)
and ``max``/``min`` (``reductions.py``) complete the standard's statistical functions.
"""

from __future__ import annotations

import math
import numbers
import warnings
from math import prod as _size

from .. import backend as _backend
from .. import rules
from ..core import unwrap
from ..rules import (
    astype_p,
    concatenate_p,
    conj_p,
    cumprod_p,
    cumsum_p,
    mul,
    prod_p,
    reshape_p,
    sqrt_p,
    where_p,
)
from ._args import (
    _NOVALUE,
    _axis,
    _backend_of,
    _check_operand,
    _finish,
    _scalar_like,
    _where_mask,
    _zero_d_axis,
    normalize_axes,
    store_out,
)
from .axes import _sum_dtype
from .axes import mean as _mean
from .axes import sum as _sum

_kind = _backend.kind

__all__ = ["prod", "cumulative_sum", "cumulative_prod", "cumsum", "cumprod", "var", "std"]


def _cast(x, dtype):
    return x if x.dtype == dtype else astype_p(x, dtype=dtype)


def _filled(x, shape, value):
    """A constant of ``shape`` holding ``value`` in ``x``'s dtype, on its device."""
    bk = _backend_of(x)
    return bk.full(tuple(shape), value, dtype=x.dtype, device=bk.device(unwrap(x)))


# ----------------------------------------------------------------------------- product


def prod(x, /, axis=None, dtype=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    """The product over ``axis`` (None: all axes; an int or a tuple; negatives count from
    the end): the standard's ``prod(x, /, *, axis, dtype, keepdims)`` with numpy's
    ``out``, ``initial`` and ``where``.

    ``dtype`` defaults to the accumulator of a sum (small integers and bool widen to the
    default integer, as numpy and the standard do); the input is cast to it first. The
    product over no elements is 1. ``where`` (a boolean mask) leaves elements out (they
    count as 1); ``initial`` multiplies the result.

    The derivative with respect to each element is the product of all the others,
    computed from exclusive cumulative products from both sides, never as ``prod / x``:
    exact where the input holds zeros, to any order.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.prod(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        array([ 2., 12.])
        >>> ea.grad(lambda x: ea.prod(x))(np.array([0.0, 2.0, 3.0]))  # exact at a zero
        array([6., 0., 0.])
    """
    a = _check_operand(x, 0, "prod")
    axis = _zero_d_axis(a, axis)
    mask = _where_mask(where, a, "prod")
    a = _cast(a, _sum_dtype(a, dtype))
    if mask is not None:
        a = where_p(mask, a, rules.const(1, a))
    axes = normalize_axes(axis, a.ndim, "prod")
    res = prod_p(a, axis=axes, keepdims=bool(keepdims))
    if initial is not _NOVALUE:
        res = mul(res, _scalar_like(initial, res, "prod", "initial"))
    return store_out(res, out, "prod")


# -------------------------------------------------------------- cumulative sum / product


def _cumulative(name, prim, fill, x, axis, dtype, include_initial, flatten):
    """A cumulative sum or product along one axis. ``flatten``: numpy's ``axis=None``
    reads the array flattened; otherwise (the standard) ``axis=None`` needs a 1-D ``x``."""
    a = _check_operand(x, 0, name)
    if axis is None:
        if a.ndim > 1 and not flatten:
            raise ValueError(f"{name}: axis must be given for an array of {a.ndim} "
                             f"dimensions (shape {tuple(a.shape)}); axis=None is only "
                             "allowed for one-dimensional input")
        axis = 0
        if a.ndim != 1:
            a = reshape_p(a, shape=(_size(a.shape),))
    elif a.ndim == 0:  # numpy reads a 0-d array as a 1-element one
        a = reshape_p(a, shape=(1,))
    ax = _axis(axis, a.ndim, name)
    a = _cast(a, _sum_dtype(a, dtype))
    res = prim(a, axis=ax, reverse=False)
    if include_initial:
        edge = _filled(res, tuple(1 if i == ax else d for i, d in enumerate(res.shape)), fill)
        res = concatenate_p(edge, res, axis=ax)
    return res


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """The cumulative sum along ``axis`` (the standard's signature, as numpy 2's).

    ``axis`` may be None only for a 1-D ``x``. ``dtype`` defaults as for :func:`sum`;
    ``include_initial`` puts the empty sum (0) first, so the axis grows by one. The
    derivative is the cumulative sum from the other end (linear; a primitive).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.cumulative_sum(np.array([1, 2, 3]), include_initial=True)
        array([0, 1, 3, 6])
        >>> ea.grad(lambda x: ea.cumulative_sum(x)[1])(np.ones(3))
        array([1., 1., 0.])
    """
    return _finish(_cumulative("cumulative_sum", cumsum_p, 0, x, axis, dtype,
                               include_initial, flatten=False))


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """The cumulative product along ``axis``, like :func:`cumulative_sum` (the empty
    product, 1, first with ``include_initial``).

    Derivatives are exact where ``x`` holds zeros: the tangent and the cotangent are
    first-order linear recurrences (``s[k] = a[k] s[k-1] + b[k]``, a primitive computed
    by a doubling scan), with no division by ``x``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.cumulative_prod(np.array([1.0, 2.0, 3.0]))
        array([1., 2., 6.])
        >>> ea.grad(lambda x: ea.cumulative_prod(x)[-1])(np.array([2.0, 0.0, 3.0]))
        array([0., 6., 0.])
    """
    return _finish(_cumulative("cumulative_prod", cumprod_p, 1, x, axis, dtype,
                               include_initial, flatten=False))


def cumsum(a, axis=None, dtype=None, out=None):
    """numpy's ``cumsum``: :func:`cumulative_sum` of the flattened array when ``axis`` is
    None, with ``out``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.cumsum(np.array([[1, 2], [3, 4]]))
        array([ 1,  3,  6, 10])
    """
    return store_out(_cumulative("cumsum", cumsum_p, 0, a, axis, dtype, False, flatten=True),
                     out, "cumsum")


def cumprod(a, axis=None, dtype=None, out=None):
    """numpy's ``cumprod``: :func:`cumulative_prod` of the flattened array when ``axis``
    is None, with ``out``."""
    return store_out(_cumulative("cumprod", cumprod_p, 1, a, axis, dtype, False,
                                 flatten=True), out, "cumprod")


# ------------------------------------------------------------------ variance and std


def _correction(name, ddof, correction):
    if correction is not None and ddof != 0:
        raise ValueError(f"{name}: give ddof or correction, not both (ddof={ddof!r}, "
                         f"correction={correction!r})")
    c = ddof if correction is None else correction
    if isinstance(c, bool) or not isinstance(c, numbers.Real):
        raise TypeError(f"{name}: the correction (ddof) must be a real number, got {c!r}")
    return float(c)


def _variance(name, x, axis, dtype, ddof, keepdims, where, mean, correction):
    """``sum(|x - mean|**2) / (N - correction)``: the result (not finished) and the
    backend. ``N - correction <= 0`` gives NaN (the standard's special case; numpy's
    division by ``max(N - correction, 0)`` gives inf or NaN there)."""
    a = _check_operand(x, 0, name)
    c = _correction(name, ddof, correction)
    bk = _backend_of(a)
    if dtype is not None:
        dt = bk.dtype(dtype)
    else:
        dt = bk.default_float if _kind(a.dtype) in "biu" else a.dtype
    a = _cast(a, dt)
    axis = _zero_d_axis(a, axis)
    axes = normalize_axes(axis, a.ndim, name)
    mask = _where_mask(where, a, name)
    if mean is None:
        m = _mean(a, axis=axes, keepdims=True, where=True if mask is None else mask)
    else:
        m = _check_operand(mean, 1, name, "mean", like=bk)
    d = rules.sub_p(a, m)
    if _kind(d.dtype) == "c":  # |d|**2 = Re(d conj(d)): real, in d's precision
        sq = astype_p(mul(d, conj_p(d)), dtype=bk.real_dtype(d.dtype))
    else:
        sq = mul(d, d)
    total = _sum(sq, axis=axes, keepdims=keepdims, where=True if mask is None else mask)
    if mask is None:
        n = _size(a.shape[i] for i in axes) - c
        if n <= 0:
            warnings.warn(f"{name}: degrees of freedom N - correction = {n:g} <= 0; the "
                          "result is NaN", RuntimeWarning, stacklevel=3)
            return mul(total, rules.const(math.nan, total)), bk
        return rules.div_p(total, rules.const(n, total)), bk
    counts = bk.sum(bk.astype(mask, total.dtype), axis=axes, keepdims=keepdims)
    dof = bk.subtract(counts, bk.const(c, counts))
    dof = bk.where(bk.greater(dof, bk.const(0, dof)), dof, bk.const(math.nan, dof))
    return rules.div_p(total, dof), bk


def var(x, /, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
        mean=None, correction=None):
    """The variance over ``axis``: ``sum(|x - mean(x)|**2) / (N - correction)``.

    The standard's ``var(x, /, *, axis, correction, keepdims)`` with numpy's ``dtype``,
    ``out``, ``ddof`` (the same as ``correction``; give one of them), ``where`` and
    ``mean`` (a precomputed mean with kept dimensions). Integer input gives float64;
    complex input a real variance. ``N - correction <= 0`` gives NaN, as the standard
    says (numpy gives inf where the sum of squares is positive), with numpy's
    RuntimeWarning.

    A composite of the mean, a difference, a product and an einsum sum: its derivative
    ``2 (x - mean) / (N - correction)`` comes from theirs, to any order.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.var(np.array([1.0, 2.0, 3.0, 4.0]), correction=1))
        1.6666666666666667
        >>> ea.grad(lambda x: ea.var(x))(np.array([1.0, 2.0, 3.0]))
        array([-0.66666667,  0.        ,  0.66666667])
    """
    res, _ = _variance("var", x, axis, dtype, ddof, keepdims, where, mean, correction)
    return store_out(res, out, "var")


def std(x, /, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
        mean=None, correction=None):
    """The standard deviation, ``sqrt(var(...))``, with :func:`var`'s arguments.

    Its derivative ``(x - mean) / ((N - correction) std)`` is infinite (NaN after the
    zero derivative of the variance) where every element is equal, as in JAX and PyTorch.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.std(np.array([1.0, 3.0])))
        1.0
    """
    res, bk = _variance("std", x, axis, dtype, ddof, keepdims, where, mean, correction)
    with bk.quiet():
        res = sqrt_p(res)
    return store_out(res, out, "std")
