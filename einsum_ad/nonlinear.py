"""Elementwise functions, selections, comparisons and non-multilinear reductions.

Thin numpy-compatible wrappers over the primitives of ``rules_elementwise.py`` and
``rules_structural.py`` (plain arrays in, numpy results out; traced values in, traced values
out), and a few composites written with them: ``gelu``, ``clip``, ``logsumexp``,
``softmax``, ``log_softmax``. Composites need no rule of their own.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from . import rules
from .core import Tracer, unwrap
from .multilinear import (
    _NOVALUE,
    _check_operand,
    _finish,
    _pair,
    _store_out,
    _where_mask,
    _zero_d_axis,
    multiply,
)
from .rules_elementwise import (
    abs_p,
    const,
    cos_p,
    equal_p,
    exp_p,
    expm1_p,
    greater_equal_p,
    greater_p,
    less_equal_p,
    less_p,
    log1p_p,
    log_p,
    maximum_p,
    minimum_p,
    not_equal_p,
    relu_p,
    sigmoid_p,
    sign_p,
    sin_p,
    softplus_p,
    sqrt_p,
    stop_gradient_p,
    tanh_p,
    where_p,
)
from .rules_structural import max_p, min_p, reduce_sum
from .tree import tree_map

__all__ = ["exp", "log", "log1p", "expm1", "sqrt", "abs", "absolute", "sign", "tanh",
           "sigmoid", "relu", "gelu", "softplus", "sin", "cos", "square", "maximum", "minimum",
           "where", "clip", "max", "min", "amax", "amin", "logsumexp", "softmax",
           "log_softmax", "stop_gradient", "equal", "not_equal", "less", "less_equal",
           "greater", "greater_equal", "normalize_axes"]


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
            raise np.exceptions.AxisError(
                f"{fname}: axis {ax} is out of bounds for an array of dimension {ndim}")
        out.append(ax % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{fname}: repeated axis in {axis!r}")
    return tuple(sorted(out))


# ============================================================================ unary


def _unary(prim, name, what, example=None):
    def f(x):
        return _finish(prim(_check_operand(x, 0, name)))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"""{what}, elementwise; differentiable in both modes.

    Args:
        x: an array or traced value.

    Returns:
        An array (a numpy scalar for 0-d input) or a traced value, of numpy's dtype.
    """ + (f"""
    Examples:
        >>> import numpy as np, einsum_ad as ea
        {example}
    """ if example else "")
    return f


exp = _unary(exp_p, "exp", "The exponential ``e**x``",
             ">>> ea.exp(np.array([0.0, 1.0]))\n        array([1.        , 2.71828183])")
log = _unary(log_p, "log", "The natural logarithm")
log1p = _unary(log1p_p, "log1p", "``log(1 + x)``, accurate for small ``x``")
expm1 = _unary(expm1_p, "expm1", "``exp(x) - 1``, accurate for small ``x``")
sqrt = _unary(sqrt_p, "sqrt", "The square root (its derivative at 0 is inf, as numpy's 1/0)")
abs = _unary(abs_p, "abs", "The absolute value (derivative ``sign(x)``, 0 at 0; for complex "
             "``z``, the real-linear ``Re(conj(z) dz)/|z|``, whose VJP is ``g conj(z)/|z|``)")
absolute = abs
sign = _unary(sign_p, "sign", "The sign, -1, 0 or 1 (not differentiable: derivative zero)")
tanh = _unary(tanh_p, "tanh", "The hyperbolic tangent")
sin = _unary(sin_p, "sin", "The sine")
cos = _unary(cos_p, "cos", "The cosine")
sigmoid = _unary(
    sigmoid_p, "sigmoid",
    "The logistic function ``1 / (1 + exp(-x))``, computed without overflow for any ``x``",
    ">>> ea.sigmoid(np.array([-1e4, 0.0, 1e4]))\n        array([0. , 0.5, 1. ])")
softplus = _unary(
    softplus_p, "softplus",
    "``log(1 + exp(x))``, computed without overflow (``softplus(1e4) == 1e4``)")
relu = _unary(relu_p, "relu", "``max(x, 0)``; its derivative is 1 where x > 0, else 0")


def square(x):
    """``x * x`` elementwise: a product, hence one einsum node (no rule of its own).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.square(np.array([1, -2, 3]))
        array([1, 4, 9])
    """
    x = _check_operand(x, 0, "square")
    if np.dtype(x.dtype) == np.bool_:  # numpy's square has no bool loop: bool -> int8
        x = rules.astype_p(x, dtype=np.dtype(np.int8))
    return _finish(rules.mul(x, x))


def gelu(x):
    """The Gaussian error linear unit, in its tanh approximation (JAX's default):
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``.

    The exact form needs ``erf``, which numpy lacks (scipy is not a dependency); the two
    differ by less than 1e-3. A composite of primitives: differentiable to any order.
    """
    x = _check_operand(x, 0, "gelu")
    if not isinstance(x, Tracer) and x.dtype.kind not in "fc":
        x = x.astype(np.result_type(x.dtype, np.float16))
    cube = rules.mul(x, rules.mul(x, x))
    inner = rules.mul(const(np.sqrt(2 / np.pi), x),
                      rules.add_p(x, rules.mul(const(0.044715, x), cube)))
    half_x = rules.mul(const(0.5, x), x)
    return _finish(rules.mul(half_x, rules.add_p(const(1, x), tanh_p(inner))))


def stop_gradient(x):
    """``x`` itself, treated as a constant by every transform (derivative zero).

    ``x`` may be a pytree of arrays.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.grad(lambda x: x * ea.stop_gradient(x))(3.0))
        3.0
    """
    return tree_map(lambda leaf: stop_gradient_p(leaf) if isinstance(leaf, Tracer) else leaf, x)


# ======================================================================== selections


def maximum(a, b):
    """Elementwise maximum with broadcasting; NaN propagates. At ties each operand gets
    half of the derivative (JAX's convention)."""
    return _finish(maximum_p(*_pair(a, b)))


def minimum(a, b):
    """Elementwise minimum with broadcasting; NaN propagates. At ties each operand gets
    half of the derivative (JAX's convention)."""
    return _finish(minimum_p(*_pair(a, b)))


def where(condition, x=_NOVALUE, y=_NOVALUE):
    """``x`` where ``condition`` holds, else ``y`` (broadcast together).

    With ``condition`` alone, numpy's ``nonzero(condition)``: a tuple of index arrays (plain
    integers, read from a traced condition's value; positions are not differentiable).

    The derivative flows to ``x`` where the condition holds and to ``y`` elsewhere; the
    condition itself is not differentiated. Both branches are evaluated: a NaN or inf in the
    unselected branch does not reach the result, but it can reach the derivative, as in JAX
    and PyTorch. The unselected branch receives a zero cotangent, and zero times an
    infinite local derivative is NaN (``where(x > 0, sqrt(x), 0)`` at ``x = -1``: sqrt's
    derivative there is NaN). Keep the unselected branch finite by selecting its *input*
    too (``sqrt(where(x > 0, x, 1))``), as the example shows.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.where(np.array([True, False]), np.array([1.0, 2.0]), 0.0)
        array([1., 0.])
        >>> x = np.array([-1.0, 4.0])
        >>> ea.grad(lambda a: ea.sum(ea.where(a > 0, ea.sqrt(ea.where(a > 0, a, 1.0)), 0.0)))(x)
        array([0.  , 0.25])
    """
    if x is _NOVALUE and y is _NOVALUE:
        return np.nonzero(np.asarray(unwrap(condition)))
    if x is _NOVALUE or y is _NOVALUE:
        raise ValueError("where: either both or neither of x and y should be given")
    c = _check_operand(condition, 0, "where")
    x, y = _pair(x, y)
    return _finish(where_p(c, x, y))


def clip(a, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002 - numpy's names
    """Limit ``a`` to ``[a_min, a_max]`` (either may be None): ``minimum(maximum(a, a_min),
    a_max)``, so at a bound the derivative is split in half, as in JAX.

    As in numpy 2, the bounds may be given as the keywords ``min`` and ``max`` instead. At
    least one bound is required.
    """
    bounds = []
    for name, pos, kw in (("min", a_min, min), ("max", a_max, max)):
        if pos is not None and kw is not None:
            raise TypeError(f"clip: the {name} bound is given twice (a_{name} and {name}=)")
        bounds.append(kw if pos is None else pos)
    lo, hi = bounds
    if lo is None and hi is None:
        raise ValueError("clip: at least one of a_min and a_max (min, max) must be given")
    out = _check_operand(a, 0, "clip")
    if lo is not None:
        out = maximum_p(*_pair(out, lo))
    if hi is not None:
        out = minimum_p(*_pair(out, hi))
    return _finish(out)


# ======================================================================= comparisons


def _wide_int(v, other):
    """A Python int compared with an integer array: numpy 2 compares the values, even when
    the int does not fit the array's dtype (``int8_array < 300`` is all True); held as a
    strongly typed int64 (or float64 beyond int64), it promotes instead of overflowing."""
    if not isinstance(v, int) or isinstance(v, bool) or isinstance(other, (int, float)):
        return v
    dt = np.dtype(other.dtype) if hasattr(other, "dtype") else np.asarray(other).dtype
    if dt.kind not in "iu" or np.iinfo(dt).min <= v <= np.iinfo(dt).max:
        return v
    return np.asarray(v) if -2**63 <= v < 2**63 else np.asarray(float(v))


def _comparison(prim, name, symbol):
    def f(a, b):
        a, b = _wide_int(a, b), _wide_int(b, a)
        return _finish(prim(*_pair(a, b)))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"""``a {symbol} b`` elementwise, as a boolean array (also the ``{symbol}``
    operator on traced values). Not differentiable: its derivative is zero."""
    return f


equal = _comparison(equal_p, "equal", "==")
not_equal = _comparison(not_equal_p, "not_equal", "!=")
less = _comparison(less_p, "less", "<")
less_equal = _comparison(less_equal_p, "less_equal", "<=")
greater = _comparison(greater_p, "greater", ">")
greater_equal = _comparison(greater_equal_p, "greater_equal", ">=")


# ======================================================================== reductions


def _extremum(prim, pair_prim, name, a, axis, out, keepdims, initial, where):
    x = _check_operand(a, 0, name)
    axes = normalize_axes(_zero_d_axis(x, axis), x.ndim, name)
    mask = _where_mask(where, x, name)
    if initial is not _NOVALUE:
        if isinstance(initial, Tracer) or np.ndim(initial) != 0:
            raise ValueError(f"{name}: initial must be a plain scalar, got "
                             f"{type(initial).__name__} of shape {np.shape(initial)}")
        initial = np.asarray(initial).astype(x.dtype)
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
        return _store_out(res, out, name)
    res = prim(x, axis=axes, keepdims=bool(keepdims))
    if initial is not _NOVALUE:
        res = pair_prim(res, initial)
    return _store_out(res, out, name)


def max(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
    """The maximum over ``axis`` (None: all axes; an int or a tuple; negatives count from
    the end), with numpy's signature. NaN propagates. Ties split the derivative equally
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


def min(a, axis=None, out=None, keepdims=False, initial=_NOVALUE, where=True):
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
    m = np.where(np.isfinite(m), m, np.zeros((), dtype=m.dtype))
    return rules.sub_p(x, m), m


def _log_sum_exp(z, axes):
    """``log(sum(exp(z), axes))`` with kept dimensions; log(0) = -inf without a warning."""
    s = reduce_sum(exp_p(z), axes, keepdims=True)
    with np.errstate(divide="ignore"):
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
    w = None if b is None else _check_operand(b, 1, "logsumexp")
    if w is not None:
        try:
            shape = np.broadcast_shapes(tuple(x.shape), tuple(w.shape))
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
        if not builtins.any(x.shape[ax] == 0 for ax in axes):  # the shift, a constant
            weighted = np.broadcast_to(unwrap(w), tuple(x.shape)) != 0
            m = np.max(np.where(weighted, unwrap(x), -np.inf), axis=axes, keepdims=True)
            m = np.where(np.isfinite(m), m, np.zeros((), dtype=m.dtype)).astype(x.dtype)
        z = x if m is None else rules.sub_p(x, m)
        if np.dtype(z.dtype).kind in "biuf":
            # only a zero-weight element can lie above the shift: cap it (a constant)
            # where its exp would overflow, so that 0 * exp never makes a NaN
            cap = np.log(np.finfo(np.result_type(z.dtype, 1.0)).max) / 2
            over = unwrap(z) > cap
            if over.any():
                z = where_p(over, np.asarray(cap, dtype=z.dtype), z)
        terms = multiply(w, exp_p(z))
    total = reduce_sum(terms, axes, keepdims=True)
    sign = None
    if return_sign:
        sign = sign_p(total)
        total = abs_p(total)
    with np.errstate(divide="ignore"):
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
    z = _shift(x, axes)[0]
    return _finish(rules.sub_p(z, _log_sum_exp(z, axes)))
