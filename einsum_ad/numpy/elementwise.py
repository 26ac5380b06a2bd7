"""Elementwise functions, selections and comparisons.

Thin numpy-compatible wrappers over the primitives of ``rules_elementwise.py`` (plain arrays
in, numpy results out; traced values in, traced values out), and a few composites written
with them: ``gelu``, ``clip``. Composites need no rule of their own. The non-multilinear
reductions (``max``, ``min``, ``logsumexp``, ``softmax``, ``log_softmax``) are in
``reductions.py``.
"""

from __future__ import annotations

import math

from .. import backend as _backend
from .. import rules
from ..core import Tracer, concrete
from ..rules import (
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
from ..tree import tree_map
from ._args import _NOVALUE, _backend_of, _check_operand, _finish, _pair, normalize_axes

_kind = _backend.kind

__all__ = ["exp", "log", "log1p", "expm1", "sqrt", "abs", "absolute", "sign", "tanh",
           "sigmoid", "relu", "gelu", "softplus", "sin", "cos", "square", "maximum", "minimum",
           "where", "clip", "stop_gradient", "equal", "not_equal", "less", "less_equal",
           "greater", "greater_equal", "normalize_axes"]


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
    if _kind(x.dtype) == "b":  # numpy's square has no bool loop: bool -> int8
        x = rules.astype_p(x, dtype=_backend_of(x).int8)
    return _finish(rules.mul(x, x))


def gelu(x):
    """The Gaussian error linear unit, in its tanh approximation (JAX's default):
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``.

    The exact form needs ``erf``, which numpy lacks (scipy is not a dependency); the two
    differ by less than 1e-3. A composite of primitives: differentiable to any order.
    """
    x = _check_operand(x, 0, "gelu")
    if not isinstance(x, Tracer) and _kind(x.dtype) not in "fc":
        bk = _backend_of(x)
        x = bk.astype(x, bk.inexact_dtype(x.dtype))
    cube = rules.mul(x, rules.mul(x, x))
    inner = rules.mul(const(math.sqrt(2 / math.pi), x),
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
        c = _check_operand(concrete(condition, "where(condition) (nonzero)"), 0, "where")
        return _backend_of(c).nonzero_known(c)
    if x is _NOVALUE or y is _NOVALUE:
        raise ValueError("where: either both or neither of x and y should be given")
    c = _check_operand(condition, 0, "where")
    x, y = _pair(x, y)
    return _finish(where_p(c, x, y))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def clip(a, a_min=None, a_max=None, *, min=None, max=None):  # noqa: A002 - numpy's names
    """Limit ``a`` to ``[a_min, a_max]`` (either may be None): ``minimum(maximum(a, a_min),
    a_max)``, so at a bound the derivative is split in half, as in JAX.

    As in numpy 2, the bounds may be given as the keywords ``min`` and ``max`` instead. At
    least one bound is required. For an integer ``a``, a Python int bound outside its dtype
    on the side that cannot bind (``clip(int8_array, 0, 300)``) is ignored, as in numpy;
    one on the other side is numpy's OverflowError.
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
    if _kind(out.dtype) in "iu":  # as numpy: a Python int bound beyond the dtype's range on
        bk = _backend_of(out)  # the side that cannot bind is no bound (the other overflows)
        info = bk.iinfo(out.dtype)
        if _is_int(lo) and lo < info.min:
            lo = None
        if _is_int(hi) and hi > info.max:
            hi = None
        if lo is None and hi is None:
            return out if isinstance(out, Tracer) else bk.copy(out)
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
    other = _check_operand(other, 1, "comparison")
    bk = _backend_of(other)
    if _kind(other.dtype) not in "iu" or bk.iinfo(other.dtype).min <= v \
            <= bk.iinfo(other.dtype).max:
        return v
    return bk.scalar(v, bk.int64) if -2**63 <= v < 2**63 else bk.scalar(float(v), bk.float64)


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
