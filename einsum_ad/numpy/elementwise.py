"""Elementwise functions: every one of the array API standard's (2024.12), numpy's names beside
them, and a few of deep learning's (``sigmoid``, ``relu``, ``gelu``, ``softplus``).

Thin wrappers over the primitives of ``rules/elementwise.py`` (plain arrays in, arrays of
their library out; traced values in, traced values out), with the standard's signatures
(positional-only operands, Python scalars beside arrays with the standard's weak typing)
and numpy's extra names and arguments: ``arcsin`` beside ``asin``, ``power`` beside
``pow``, ``absolute``, ``conjugate``, ``mod``, ``true_divide``, ``invert``, ``left_shift``,
``round(x, decimals)``, ``clip(a, a_min, a_max)``. A few are composites of primitives
(``gelu``, ``clip``, ``square``, ``positive``) and need no rule of their own. The
non-multilinear reductions are in ``reductions.py``; ``multiply`` is an einsum node
(``multilinear.py``).

Derivatives: every function differentiable where it is smooth, in both modes and to any
order. Piecewise-constant functions (``floor``, ``ceil``, ``trunc``, ``round``,
``floor_divide``, ``sign`` of a real number, ``signbit``) and those with boolean or integer
results (comparisons, predicates, logical and bitwise functions) have derivative zero.
"""

from __future__ import annotations

import builtins
import math

from .. import backend as _backend
from .. import rules
from ..core import Tracer, unwrap
from ..rules import (
    abs_p,
    acos_p,
    acosh_p,
    asin_p,
    asinh_p,
    atan2_p,
    atan_p,
    atanh_p,
    bitwise_and_p,
    bitwise_invert_p,
    bitwise_left_shift_p,
    bitwise_or_p,
    bitwise_right_shift_p,
    bitwise_xor_p,
    ceil_p,
    conj_p,
    const,
    copysign_p,
    cos_p,
    cosh_p,
    equal_p,
    exp_p,
    expm1_p,
    floor_divide_p,
    floor_p,
    greater_equal_p,
    greater_p,
    hypot_p,
    imag_p,
    isfinite_p,
    isinf_p,
    isnan_p,
    less_equal_p,
    less_p,
    log1p_p,
    log2_p,
    log10_p,
    log_p,
    logaddexp_p,
    logical_and_p,
    logical_not_p,
    logical_or_p,
    logical_xor_p,
    maximum_p,
    minimum_p,
    nextafter_p,
    not_equal_p,
    powt_p,
    real_p,
    reciprocal_p,
    relu_p,
    remainder_p,
    round_p,
    sigmoid_p,
    sign_p,
    signbit_p,
    sin_p,
    sinh_p,
    softplus_p,
    sqrt_p,
    stop_gradient_p,
    tan_p,
    tanh_p,
    trunc_p,
    where_p,
)
from ..tree import tree_map
from ._args import (
    _NOVALUE,
    _backend_of,
    _check_operand,
    _finish,
    _is_pyscalar,
    _operands,
    _pair,
)

_kind = _backend.kind

__all__ = [
    # arithmetic
    "add", "subtract", "negative", "positive", "divide", "true_divide", "floor_divide",
    "remainder", "mod", "pow", "power", "square", "sqrt", "reciprocal", "abs", "absolute",
    "sign", "copysign", "nextafter",
    # exponentials and logarithms
    "exp", "expm1", "log", "log1p", "log2", "log10", "logaddexp",
    # trigonometric and hyperbolic functions, their inverses
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh",
    "arctanh", "hypot",
    # complex numbers
    "real", "imag", "conj", "conjugate",
    # rounding
    "floor", "ceil", "trunc", "round",
    # predicates
    "isfinite", "isinf", "isnan", "signbit",
    # comparisons, selections
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "maximum",
    "minimum", "clip", "where",
    # logical and bitwise functions
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_invert", "bitwise_not", "invert", "bitwise_left_shift",
    "left_shift", "bitwise_right_shift", "right_shift",
    # deep learning
    "sigmoid", "relu", "gelu", "softplus", "stop_gradient",
]


# ============================================================================ helpers


def _doc(signature, what, derivative, example=None):
    text = f"""{what}, elementwise.

    Args:
        {signature}

    Returns:
        An array of the operands' library (a numpy scalar for 0-d NumPy input), or a
        traced value; its dtype is the library's (numpy's for NumPy arrays).

    Derivative: {derivative}
    """
    if example:
        text += """
    Examples:
        >>> import numpy as np, einsum_ad as ea
        """ + "\n        ".join(example.strip().splitlines()) + "\n    "
    return text


_UNARY_ARGS = "x: an array, a traced value or a Python scalar."
_BINARY_ARGS = ("x1, x2: arrays, traced values or Python scalars, broadcast together (a\n"
                "            Python scalar takes the other operand's dtype where it fits, as in\n"
                "            numpy and the standard).")


def _unary(prim, name, what, derivative, example=None):
    def f(x, /):
        return _finish(prim(_check_operand(x, 0, name)))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = _doc(_UNARY_ARGS, what, derivative, example)
    return f


def _binary(prim, name, what, derivative, example=None):
    def f(x1, x2, /):
        return _finish(prim(*_pair(x1, x2)))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = _doc(_BINARY_ARGS, what, derivative, example)
    return f


_ZERO = "zero (piecewise constant)."
_BOOL = "zero (a boolean result)."
_INT = "zero (integer operands)."


# ======================================================================== arithmetic


def add(x1, x2, /):
    """Elementwise sum with broadcasting; its derivative is 1 in each operand.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.add(np.array([1.0, 2.0]), 1)
        array([2., 3.])
    """
    return _finish(rules.add_p(*_pair(x1, x2)))


def subtract(x1, x2, /):
    """Elementwise difference with broadcasting; its derivative is 1 and -1."""
    return _finish(rules.sub_p(*_pair(x1, x2)))


def negative(x, /):
    """Elementwise negation ``-x``."""
    return _finish(rules.neg_p(_check_operand(x, 0, "negative")))


def positive(x, /):
    """``+x``: the values of ``x`` (a new array for a plain one; a traced value as it is,
    since traced values are immutable). Its derivative is the identity."""
    x = _check_operand(x, 0, "positive")
    if isinstance(x, Tracer):
        return x
    return _finish(_backend_of(x).positive(x))


def divide(x1, x2, /):
    """Elementwise true division with broadcasting.

    As in numpy, integer and bool operands divide in float64, so a Python int next to an
    integer array need not fit that array's dtype (``divide(int8_array, 300)`` is float64).
    Derivative: ``1 / x2`` and ``-x1 / x2**2``.
    """
    a, b = x1, x2
    if _is_pyscalar(a) != _is_pyscalar(b):
        k = 0 if _is_pyscalar(a) else 1  # which one is the Python scalar
        other = _check_operand(b if k == 0 else a, 1 - k, "divide")
        scalar = a if k == 0 else b
        if isinstance(scalar, int) and not isinstance(scalar, bool) \
                and _kind(other.dtype) in "biu":
            bk = _backend_of(other)  # what integer division computes in (numpy: float64)
            scalar = bk.scalar(scalar, bk.default_float, bk.device(unwrap(other)))
        a, b = (scalar, other) if k == 0 else (other, scalar)
    return _finish(rules.div_p(*_pair(a, b)))


true_divide = divide


def power(x1, x2, /):
    """``x1 ** x2`` elementwise, with broadcasting (numpy's name; :func:`pow` is the
    standard's).

    A constant scalar exponent is a parameter of the node (``x ** 2`` costs one power);
    a traced or array exponent makes a two-operand node whose exponent derivative is
    ``x1**x2 log(x1)`` (taken as 0 where ``x1 == 0``, as in JAX).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.grad(lambda b: ea.power(2.0, b))(3.0))  # 2**3 log 2
        5.545177444479562
    """
    a, exponent = x1, x2
    numpy = _backend.default()
    if isinstance(exponent, (builtins.bool, int, float, complex)) or (
            _backend.of(exponent) is numpy and exponent.shape == ()):
        # a numpy scalar or 0-d array keeps its dtype (it takes part in type promotion:
        # float32 ** float64(2) is float64, as in numpy); a Python scalar stays weak
        if _backend.of(exponent) is numpy:
            exponent = numpy.asarray(exponent)[()]
        return _finish(rules.pow_p(_check_operand(a, 0, "power"), exponent=exponent))
    return _finish(powt_p(*_pair(a, exponent)))


def pow(x1, x2, /):  # noqa: A001 - the standard's name
    """``x1 ** x2`` elementwise (the standard's name of :func:`power`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.pow(np.array([1.0, 2.0, 3.0]), 2)
        array([1., 4., 9.])
    """
    return power(x1, x2)


def square(x, /):
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


floor_divide = _binary(
    floor_divide_p, "floor_divide", "``floor(x1 / x2)``, as Python's ``//``", _ZERO,
    ">>> ea.floor_divide(np.array([7, -7]), 2)\narray([ 3, -4])")
remainder = _binary(
    remainder_p, "remainder",
    "``x1 - floor(x1 / x2) * x2``, as Python's ``%`` (the sign of ``x2``)",
    "1 in ``x1``, ``-floor(x1 / x2)`` in ``x2``.",
    ">>> ea.remainder(np.array([7.0, -7.0]), 3.0)\narray([1., 2.])")
mod = remainder
reciprocal = _unary(
    reciprocal_p, "reciprocal", "``1 / x``", "``-1 / x**2``.",
    ">>> ea.reciprocal(np.array([2.0, -4.0]))\narray([ 0.5 , -0.25])")
sqrt = _unary(sqrt_p, "sqrt", "The square root",
              "``1 / (2 sqrt(x))`` (inf at 0, as numpy's 1/0).",
              ">>> ea.sqrt(np.array([4.0, 9.0]))\narray([2., 3.])")
abs = _unary(abs_p, "abs", "The absolute value",  # noqa: A001
             "``sign(x)``, 0 at 0; for complex ``z`` the real-linear ``Re(conj(z) dz) / "
             "|z|``, whose VJP is ``g conj(z) / |z|``.",
             ">>> ea.abs(np.array([-1.5, 2.0]))\narray([1.5, 2. ])")
absolute = abs
def sign(x, /):
    """The sign, elementwise: -1, 0 or 1 for real ``x`` (NaN for NaN); ``x / |x|`` (0 at
    0) for complex ``x``.

    Args:
        x: an array, a traced value or a Python scalar.

    Returns:
        An array of ``x``'s dtype (a numpy scalar for 0-d NumPy input), or a traced value.

    Derivative: zero for real ``x`` (piecewise constant). For complex ``x`` the sign moves
    with the angle: it is computed as the standard defines it, ``x / abs(x)`` (0 where
    ``x == 0``), whose derivative comes from those of division and abs (0 at 0).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.sign(np.array([-2.0, 0.0, 3.0])), ea.sign(np.array([3 + 4j, 0j]))
        (array([-1.,  0.,  1.]), array([0.6+0.8j, 0. +0.j ]))
    """
    x = _check_operand(x, 0, "sign")
    if _kind(x.dtype) != "c":
        return _finish(sign_p(x))
    r = abs_p(x)
    zero = equal_p(r, const(0, r))
    s = rules.div_p(x, where_p(zero, const(1, r), r))
    return _finish(where_p(zero, const(0, s), s))


copysign = _binary(
    copysign_p, "copysign", "The magnitude of ``x1`` with the sign (bit) of ``x2``",
    "``+-1`` in ``x1`` (the sign of ``x1 * x2``; 0 at ``x1 = 0``, as abs), 0 in ``x2``.",
    ">>> ea.copysign(np.array([1.0, -2.0]), -0.0)\narray([-1., -2.])")
nextafter = _binary(
    nextafter_p, "nextafter",
    "The next floating-point value after ``x1`` towards ``x2``",
    "1 in ``x1`` (one unit in the last place away from it: the identity up to rounding, "
    "as a cast between float types), 0 in ``x2``.",
    ">>> bool(ea.nextafter(np.float64(1.0), 2.0) > 1.0)\nTrue")


# ================================================================ exponentials, logarithms

exp = _unary(exp_p, "exp", "The exponential ``e**x``", "``exp(x)``.",
             ">>> ea.exp(np.array([0.0, 1.0]))\narray([1.        , 2.71828183])")
expm1 = _unary(expm1_p, "expm1", "``exp(x) - 1``, accurate for small ``x``", "``exp(x)``.")
log = _unary(log_p, "log", "The natural logarithm", "``1 / x``.")
log1p = _unary(log1p_p, "log1p", "``log(1 + x)``, accurate for small ``x``",
               "``1 / (1 + x)``.")
log2 = _unary(log2_p, "log2", "The base-2 logarithm", "``1 / (x log(2))``.",
              ">>> ea.log2(np.array([1.0, 8.0]))\narray([0., 3.])")
log10 = _unary(log10_p, "log10", "The base-10 logarithm", "``1 / (x log(10))``.",
               ">>> ea.log10(np.array([1.0, 1000.0]))\narray([0., 3.])")
logaddexp = _binary(
    logaddexp_p, "logaddexp", "``log(exp(x1) + exp(x2))``, without overflow",
    "``sigmoid(x1 - x2)`` and ``sigmoid(x2 - x1)``, stable for any values (1/2 each "
    "where both are the same infinity).",
    ">>> ea.logaddexp(np.array([1e4, 0.0]), np.array([1e4, 0.0]))\n"
    "array([1.00006931e+04, 6.93147181e-01])")


# ===================================================== trigonometric and hyperbolic

sin = _unary(sin_p, "sin", "The sine", "``cos(x)``.")
cos = _unary(cos_p, "cos", "The cosine", "``-sin(x)``.")
tan = _unary(tan_p, "tan", "The tangent", "``1 + tan(x)**2``.",
             ">>> ea.tan(np.array([0.0]))\narray([0.])")
asin = _unary(asin_p, "asin", "The inverse sine (numpy: ``arcsin``)",
              "``1 / sqrt(1 - x**2)``, on the principal branch for complex ``x``.",
              ">>> ea.asin(np.array([0.0, 1.0]))\narray([0.        , 1.57079633])")
acos = _unary(acos_p, "acos", "The inverse cosine (numpy: ``arccos``)",
              "``-1 / sqrt(1 - x**2)``, on the principal branch for complex ``x``.",
              ">>> ea.acos(np.array([1.0, 0.0]))\narray([0.        , 1.57079633])")
atan = _unary(atan_p, "atan", "The inverse tangent (numpy: ``arctan``)",
              "``1 / (1 + x**2)``.",
              ">>> ea.atan(np.array([0.0, 1.0]))\narray([0.        , 0.78539816])")
atan2 = _binary(
    atan2_p, "atan2",
    "The angle of the point ``(x2, x1)``: the inverse tangent of ``x1 / x2`` in the "
    "quadrant of the signs of both (numpy: ``arctan2``)",
    "``x2 / (x1**2 + x2**2)`` in ``x1`` and ``-x1 / (x1**2 + x2**2)`` in ``x2``, computed "
    "without overflow; NaN at the origin, where atan2 is not continuous (as in JAX and "
    "PyTorch).",
    ">>> ea.atan2(np.array([1.0, -1.0]), np.array([-1.0, -1.0]))\n"
    "array([ 2.35619449, -2.35619449])")
sinh = _unary(sinh_p, "sinh", "The hyperbolic sine", "``cosh(x)``.")
cosh = _unary(cosh_p, "cosh", "The hyperbolic cosine", "``sinh(x)``.")
tanh = _unary(tanh_p, "tanh", "The hyperbolic tangent", "``1 - tanh(x)**2``.")
asinh = _unary(asinh_p, "asinh", "The inverse hyperbolic sine (numpy: ``arcsinh``)",
               "``1 / sqrt(1 + x**2)`` (as ``1 / hypot(1, x)`` for real ``x``: no overflow).",
               ">>> ea.asinh(np.array([0.0]))\narray([0.])")
acosh = _unary(acosh_p, "acosh", "The inverse hyperbolic cosine (numpy: ``arccosh``)",
               "``1 / (sqrt(x - 1) sqrt(x + 1))``, on the principal branch for complex "
               "``x``.",
               ">>> ea.acosh(np.array([1.0]))\narray([0.])")
atanh = _unary(atanh_p, "atanh", "The inverse hyperbolic tangent (numpy: ``arctanh``)",
               "``1 / (1 - x**2)``.",
               ">>> ea.atanh(np.array([0.0]))\narray([0.])")
hypot = _binary(
    hypot_p, "hypot", "``sqrt(x1**2 + x2**2)``, without overflow or underflow",
    "``x1 / hypot`` and ``x2 / hypot`` (0 at the origin: a subgradient, as abs' = 0 at 0).",
    ">>> ea.hypot(np.array([3.0, 3e200]), np.array([4.0, 4e200]))\n"
    "array([5.e+000, 5.e+200])")

arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2
arcsinh, arccosh, arctanh = asinh, acosh, atanh


# ====================================================================== complex numbers

real = _unary(real_p, "real", "The real part (``x`` itself for a real ``x``)",
              "``real(dx)``; its VJP takes a cotangent ``g`` to ``g + 0j`` (no conjugation: "
              "README, \"Complex numbers\").",
              ">>> ea.real(np.array([1 + 2j]))\narray([1.])")
imag = _unary(imag_p, "imag", "The imaginary part (zeros for a real ``x``)",
              "``imag(dx)``; its VJP takes a cotangent ``g`` to ``-1j g`` (no conjugation: "
              "README, \"Complex numbers\").",
              ">>> ea.imag(np.array([1 + 2j]))\narray([2.])")
conj = _unary(conj_p, "conj", "The complex conjugate (``x`` itself for a real ``x``)",
              "``conj(dx)`` (a linear map; its VJP is ``conj`` again).",
              ">>> ea.conj(np.array([1 + 2j]))\narray([1.-2.j])")
conjugate = conj


# ============================================================================= rounding

floor = _unary(floor_p, "floor", "The largest integer value not above ``x``", _ZERO,
               ">>> ea.floor(np.array([-1.5, 1.5]))\narray([-2.,  1.])")
ceil = _unary(ceil_p, "ceil", "The smallest integer value not below ``x``", _ZERO,
              ">>> ea.ceil(np.array([-1.5, 1.5]))\narray([-1.,  2.])")
trunc = _unary(trunc_p, "trunc", "``x`` rounded towards zero", _ZERO,
               ">>> ea.trunc(np.array([-1.5, 1.5]))\narray([-1.,  1.])")


def round(x, /, decimals=0):  # noqa: A001 - the standard's name
    """``x`` rounded to the nearest integer value, halves to even (numpy's ``decimals``:
    to that many decimal places, negative for tens, hundreds, ...). Complex ``x``: the
    real and imaginary parts separately.

    Args:
        x: an array, a traced value or a Python scalar.
        decimals: an int (numpy's argument; the standard has only 0).

    Returns:
        An array of ``x``'s dtype (or a traced value).

    Derivative: zero (piecewise constant).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.round(np.array([0.5, 1.5, 2.5, -0.5]))
        array([ 0.,  2.,  2., -0.])
        >>> ea.round(np.array([1.2345, 125.0]), 2), ea.round(np.array([125.0]), -1)
        (array([  1.23, 125.  ]), array([120.]))
    """
    if isinstance(decimals, builtins.bool) or not isinstance(decimals, int):
        try:
            decimals = int(decimals.__index__())
        except (AttributeError, TypeError):
            raise TypeError(f"round: decimals must be an integer, got {decimals!r}") from None
    return _finish(round_p(_check_operand(x, 0, "round"), decimals=decimals))


# =========================================================================== predicates

isfinite = _unary(isfinite_p, "isfinite", "Whether ``x`` is finite (not inf, not NaN)",
                  _BOOL, ">>> ea.isfinite(np.array([1.0, np.inf, np.nan]))\n"
                  "array([ True, False, False])")
isinf = _unary(isinf_p, "isinf", "Whether ``x`` is an infinity", _BOOL,
               ">>> ea.isinf(np.array([1.0, -np.inf, np.nan]))\narray([False,  True, False])")
isnan = _unary(isnan_p, "isnan", "Whether ``x`` is NaN", _BOOL,
               ">>> ea.isnan(np.array([1.0, np.inf, np.nan]))\narray([False, False,  True])")
signbit = _unary(signbit_p, "signbit", "Whether the sign bit of ``x`` is set (``-0.0`` "
                 "included)", _BOOL,
                 ">>> ea.signbit(np.array([-0.0, 0.0, -1.0]))\narray([ True, False,  True])")


# ========================================================================= comparisons


def _wide_int(v, other):
    """A Python int compared with an integer array: numpy 2 compares the values, even when
    the int does not fit the array's dtype (``int8_array < 300`` is all True); held as a
    strongly typed int64 (or float64 beyond int64), it promotes instead of overflowing."""
    if not isinstance(v, int) or isinstance(v, builtins.bool) \
            or isinstance(other, (int, float)):
        return v
    other = _check_operand(other, 1, "comparison")
    bk = _backend_of(other)
    if _kind(other.dtype) not in "iu" or bk.iinfo(other.dtype).min <= v \
            <= bk.iinfo(other.dtype).max:
        return v
    dev = bk.device(unwrap(other))
    return bk.scalar(v, bk.int64, dev) if -2**63 <= v < 2**63 else \
        bk.scalar(float(v), bk.float64, dev)


def _comparison(prim, name, symbol):
    def f(x1, x2, /):
        a, b = _wide_int(x1, x2), _wide_int(x2, x1)
        return _finish(prim(*_pair(a, b)))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"""``x1 {symbol} x2`` elementwise, as a boolean array (also the ``{symbol}``
    operator on traced values). Not differentiable: its derivative is zero."""
    return f


equal = _comparison(equal_p, "equal", "==")
not_equal = _comparison(not_equal_p, "not_equal", "!=")
less = _comparison(less_p, "less", "<")
less_equal = _comparison(less_equal_p, "less_equal", "<=")
greater = _comparison(greater_p, "greater", ">")
greater_equal = _comparison(greater_equal_p, "greater_equal", ">=")


# ========================================================================== selections


def maximum(x1, x2, /):
    """Elementwise maximum with broadcasting; NaN propagates. At ties each operand gets
    half of the derivative (JAX's convention)."""
    return _finish(maximum_p(*_pair(x1, x2)))


def minimum(x1, x2, /):
    """Elementwise minimum with broadcasting; NaN propagates. At ties each operand gets
    half of the derivative (JAX's convention)."""
    return _finish(minimum_p(*_pair(x1, x2)))


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
        c = _check_operand(unwrap(condition), 0, "where")
        return _backend_of(c).nonzero_known(c)
    if x is _NOVALUE or y is _NOVALUE:
        raise ValueError("where: either both or neither of x and y should be given")
    x, y = _pair(x, y)
    # one library for the three: a list condition, or two Python scalars (NumPy constants
    # after _pair), join the arrays' library; arrays of two libraries raise TypeError
    (c, x, y), _ = _operands((condition, x, y), "where")
    return _finish(where_p(c, x, y))


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, builtins.bool)


def clip(x, /, min=None, max=None, *, a_min=None, a_max=None):  # noqa: A002
    """Limit ``x`` to ``[min, max]`` (either may be None; with neither, a copy of ``x``):
    ``minimum(maximum(x, min), max)``, so at a bound the derivative is split in half, as
    in JAX. NaN in ``x`` or in a bound gives NaN.

    The standard's signature; numpy's keywords ``a_min`` and ``a_max`` are accepted too.
    A Python scalar bound takes ``x``'s dtype where it fits. For an integer ``x``, a
    Python int bound outside its dtype on the side that cannot bind (``clip(int8_array, 0,
    300)``) is ignored, as in numpy; one on the other side is numpy's OverflowError.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.clip(np.array([-2.0, 0.5, 3.0]), -1, 1)
        array([-1. ,  0.5,  1. ])
    """
    bounds = []
    for name, pos, kw in (("min", min, a_min), ("max", max, a_max)):
        if pos is not None and kw is not None:
            raise TypeError(f"clip: the {name} bound is given twice ({name} and a_{name}=)")
        bounds.append(kw if pos is None else pos)
    lo, hi = bounds
    out = _check_operand(x, 0, "clip")
    bk = _backend_of(out)
    if _kind(out.dtype) in "iu":  # as numpy: a Python int bound beyond the dtype's range on
        info = bk.iinfo(out.dtype)  # the side that cannot bind is no bound
        if _is_int(lo) and lo < info.min:
            lo = None
        if _is_int(hi) and hi > info.max:
            hi = None
    if lo is None and hi is None:
        return out if isinstance(out, Tracer) else _finish(bk.copy(out))
    if lo is not None:
        out = maximum_p(*_pair(out, lo))
    if hi is not None:
        out = minimum_p(*_pair(out, hi))
    return _finish(out)


# ============================================================= logical and bitwise

logical_and = _binary(logical_and_p, "logical_and", "``x1 and x2``", _BOOL)
logical_or = _binary(logical_or_p, "logical_or", "``x1 or x2``", _BOOL)
logical_xor = _binary(logical_xor_p, "logical_xor", "``x1 xor x2``", _BOOL,
                      ">>> ea.logical_xor(np.array([True, False]), True)\n"
                      "array([False,  True])")
logical_not = _unary(logical_not_p, "logical_not", "``not x``", _BOOL)
bitwise_and = _binary(bitwise_and_p, "bitwise_and", "``x1 & x2`` (integers, bool)", _INT)
bitwise_or = _binary(bitwise_or_p, "bitwise_or", "``x1 | x2`` (integers, bool)", _INT)
bitwise_xor = _binary(bitwise_xor_p, "bitwise_xor", "``x1 ^ x2`` (integers, bool)", _INT)
bitwise_invert = _unary(bitwise_invert_p, "bitwise_invert", "``~x`` (integers, bool)", _INT,
                        ">>> ea.bitwise_invert(np.array([0, 5], dtype=np.int8))\n"
                        "array([-1, -6], dtype=int8)")
bitwise_not = invert = bitwise_invert
bitwise_left_shift = _binary(bitwise_left_shift_p, "bitwise_left_shift",
                             "``x1 << x2`` (integers)", _INT,
                             ">>> ea.bitwise_left_shift(np.array([1, 3]), 2)\n"
                             "array([ 4, 12])")
bitwise_right_shift = _binary(bitwise_right_shift_p, "bitwise_right_shift",
                              "``x1 >> x2`` (integers)", _INT)
left_shift, right_shift = bitwise_left_shift, bitwise_right_shift


# ====================================================================== deep learning

sigmoid = _unary(
    sigmoid_p, "sigmoid",
    "The logistic function ``1 / (1 + exp(-x))``, computed without overflow for any ``x``",
    "``sigmoid(x) sigmoid(-x)`` (exact in both tails).",
    ">>> ea.sigmoid(np.array([-1e4, 0.0, 1e4]))\narray([0. , 0.5, 1. ])")
softplus = _unary(
    softplus_p, "softplus",
    "``log(1 + exp(x))``, computed without overflow (``softplus(1e4) == 1e4``)",
    "``sigmoid(x)``.")
relu = _unary(relu_p, "relu", "``max(x, 0)``", "1 where x > 0, else 0.")


def gelu(x, /):
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
