"""The rule table, elementwise sections: arithmetic, unary functions, complex parts, binary
functions, piecewise-constant functions, predicates, comparisons, selections.

Part of the one rule table (``rules/__init__.py`` lists every primitive). Every rule
computes with primitives, so it can be differentiated again. A rule may return a cotangent
with the broadcast shape: the backward pass's ``fit`` sums it back. Masks never multiply a
cotangent (``inf * 0`` is NaN): they select with ``where``. Non-differentiable primitives
(rounding, ``signbit``, the predicates, comparisons, bitwise and logical functions,
``stop_gradient``) have derivative zero in both modes.

Complex numbers follow the library's convention (README, "Complex numbers"): the VJP is the
transpose of the derivative under the bilinear pairing ``Re(sum(a * b))``, without
conjugation. A holomorphic function's VJP is then its JVP's multiplier (``exp``, ``asin``,
...); the real-linear ones are written out (``abs``, ``real``, ``imag``).

``ELEMENTWISE`` lists every elementwise primitive (here and in ``linear.py``), so that a
batching transform can treat them all alike: an elementwise primitive of batched operands
is the same primitive of the operands broadcast against each other, batch axis included.
"""

from __future__ import annotations

import math

from .. import backend as _backend
from ..core import Primitive
from ..core import unwrap as _unwrap
from .constants import const, kind
from .einsum import mul
from .linear import add_p, conj_p, neg_p, sub_p
from .structural import astype_p, fit_forward

__all__ = ["div_p", "pow_p", "exp_p", "log_p", "log1p_p", "expm1_p", "sqrt_p", "abs_p",
           "tanh_p", "sigmoid_p", "softplus_p", "relu_p", "sin_p", "cos_p", "sign_p",
           "stop_gradient_p", "maximum_p", "minimum_p", "where_p", "powt_p", "equal_p",
           "not_equal_p", "less_p", "less_equal_p", "greater_p", "greater_equal_p",
           "logical_and_p",
           # inverse and hyperbolic trigonometry, logarithms, reciprocal
           "tan_p", "asin_p", "acos_p", "atan_p", "sinh_p", "cosh_p", "asinh_p", "acosh_p",
           "atanh_p", "log2_p", "log10_p", "reciprocal_p",
           # complex parts
           "real_p", "imag_p",
           # binary functions
           "atan2_p", "hypot_p", "logaddexp_p", "copysign_p", "nextafter_p", "remainder_p",
           # piecewise constant, predicates, bitwise and logical (derivative zero)
           "floor_p", "ceil_p", "trunc_p", "round_p", "floor_divide_p", "signbit_p",
           "isfinite_p", "isinf_p", "isnan_p", "logical_not_p", "logical_or_p",
           "logical_xor_p", "bitwise_and_p", "bitwise_or_p", "bitwise_xor_p",
           "bitwise_invert_p", "bitwise_left_shift_p", "bitwise_right_shift_p",
           "ELEMENTWISE"]

_of = _backend.of


def _inexact(x):
    """``x`` as an inexact array, with the float type the library's functions give integers."""
    if kind(x.dtype) in "biu":
        bk = _of(x)
        x = bk.astype(x, bk.inexact_dtype(x.dtype))
    return x


def _zero_like(x):
    return const(0, x)


def _one_like(x):
    return const(1, x)


def _ufunc(name):
    """The impl of a primitive that is the backend's function ``name`` itself."""
    def impl(*args):
        return getattr(_of(args[0]), name)(*args)
    impl.__name__ = name
    return impl


def _safe(d):
    """``d`` with its zeros replaced by 1: a divisor that never makes a 0/0 (the caller
    selects the value it wants where ``d`` was 0)."""
    return where_p(equal_p(d, _zero_like(d)), _one_like(d), d)


def _binary_rules(p, lin_a, lin_b):
    """Register a binary primitive's rules from ``lin_k(t, ans, a, b)``, linear in ``t``
    (None where the derivative in that operand is zero).

    The VJP computes only the cotangents that are asked for; the JVP sums the two terms
    and broadcasts the tangent to the result's shape.
    """
    lins = (lin_a, lin_b)

    @p.def_fwd_vjp
    def _fwd_vjp(args, params, argnums):
        ans = p(*args, **params)
        return ans, lambda g: tuple(None if lins[i] is None else lins[i](g, ans, *args)
                                    for i in argnums)

    @p.def_jvp
    def _jvp(primals, tangents, params):
        ans = p(*primals, **params)
        tan = None
        for lin, t in zip(lins, tangents):
            if t is not None and lin is not None:
                term = lin(t, ans, *primals)
                tan = term if tan is None else add_p(tan, term)
        return ans, fit_forward(tan, ans)

    return p


# ======================================================================== arithmetic


div_p = Primitive("divide", lambda a, b: _of(a).divide(a, b))


@div_p.def_fwd_vjp
def _div_fwd_vjp(args, params, argnums):
    # only the differentiated operands' cotangents are computed (x / constant: one div)
    a, b = args
    ans = div_p(a, b)
    return ans, lambda g: tuple(div_p(g, b) if i == 0 else neg_p(div_p(mul(g, ans), b))
                                for i in argnums)


@div_p.def_jvp
def _div_jvp(p, t, params):
    a, b = p
    ans = div_p(a, b)
    ta, tb = t
    tan = None if ta is None else div_p(ta, b)
    if tb is not None:
        term = neg_p(div_p(mul(tb, ans), b))
        tan = term if tan is None else add_p(tan, term)
    return ans, fit_forward(tan, ans)


def _pow_impl(x, *, exponent):
    bk = _of(x)
    if isinstance(exponent, (bool, int, float, complex)):  # weak: numpy's NEP 50 promotion
        e = bk.scalar(exponent, bk.weak_dtype(x.dtype, exponent), bk.device(x))
    else:  # a 0-d array (numpy scalar) with a dtype of its own, which takes part
        e = exponent if _of(exponent) is bk else bk.from_numpy(exponent, like=x)
    return bk.pow(x, e)


pow_p = Primitive("power", _pow_impl)


def _dpow(x, exponent):
    if exponent == 0:
        return None
    if exponent == 1:
        return const(1, x)
    return mul(pow_p(x, exponent=exponent - 1), const(exponent, x))


@pow_p.def_vjp
def _pow_vjp(ans, x, *, exponent):
    def vjp(g):
        d = _dpow(x, exponent)
        return (None if d is None else mul(g, d),)
    return vjp


@pow_p.def_jvp
def _pow_jvp(p, t, params):
    d = _dpow(p[0], params["exponent"])
    return pow_p(p[0], **params), None if d is None else mul(t[0], d)


def _reciprocal_impl(x):
    bk = _of(x)
    f = getattr(bk, "reciprocal", None)
    if f is None:  # a namespace older than the 2024.12 standard
        x = _inexact(x)
        return bk.divide(bk.const(1, x), x)
    return f(x)


# ============================================================================ unary
#
# ``_unary(name, impl, lin)``: ``lin(t, ans, x)`` is the derivative applied to ``t`` (a
# tangent or a cotangent: for a holomorphic or real elementwise function the two coincide
# under the no-conjugation convention).


def _unary(name, impl, lin):
    p = Primitive(name, impl)
    p.def_vjp(lambda ans, x: lambda g: (lin(g, ans, x),))

    @p.def_jvp
    def _jvp(primals, tangents, params):
        ans = p(primals[0])
        return ans, lin(tangents[0], ans, primals[0])

    return p


def _one_plus(x):
    return add_p(const(1, x), x)


def _one_minus_square(x):
    """``1 - x**2`` as ``(1 - x)(1 + x)``: no cancellation near ``|x| = 1``."""
    one = const(1, x)
    return mul(sub_p(one, x), add_p(one, x))


def _sigmoid_impl(x):
    x = _inexact(x)
    bk = _of(x)
    one = bk.const(1, x)
    if kind(x.dtype) == "c":
        return bk.divide(one, bk.add(one, bk.exp(bk.negative(x))))
    e = bk.exp(bk.negative(bk.abs(x)))  # in [0, 1]: never overflows
    d = bk.add(one, e)
    return bk.where(bk.greater_equal(x, bk.const(0, x)), bk.divide(one, d), bk.divide(e, d))


def _relu_impl(x):
    bk = _of(x)
    return bk.maximum(x, bk.const(0, x))


def _softplus_impl(x):
    x = _inexact(x)
    bk = _of(x)
    return bk.logaddexp(x, bk.const(0, x))  # log(1 + e^x) without overflow


exp_p = _unary("exp", _ufunc("exp"), lambda t, ans, x: mul(t, ans))
log_p = _unary("log", _ufunc("log"), lambda t, ans, x: div_p(t, x))
log1p_p = _unary("log1p", _ufunc("log1p"), lambda t, ans, x: div_p(t, _one_plus(x)))
expm1_p = _unary("expm1", _ufunc("expm1"), lambda t, ans, x: mul(t, _one_plus(ans)))
sqrt_p = _unary("sqrt", _ufunc("sqrt"), lambda t, ans, x: div_p(t, mul(ans, const(2, ans))))
tanh_p = _unary("tanh", _ufunc("tanh"),
                lambda t, ans, x: mul(t, sub_p(const(1, ans), mul(ans, ans))))
sin_p = _unary("sin", _ufunc("sin"), lambda t, ans, x: mul(t, cos_p(x)))
cos_p = _unary("cos", _ufunc("cos"), lambda t, ans, x: neg_p(mul(t, sin_p(x))))
# sigmoid' = sigmoid(x) sigmoid(-x): both factors exact in the tails (1 - sigmoid is not)
sigmoid_p = _unary("sigmoid", _sigmoid_impl,
                   lambda t, ans, x: mul(t, mul(ans, sigmoid_p(neg_p(x)))))
softplus_p = _unary("softplus", _softplus_impl, lambda t, ans, x: mul(t, sigmoid_p(x)))

# tan' = 1 + tan**2 (the result, no second cosine); sinh' = cosh, cosh' = sinh
tan_p = _unary("tan", _ufunc("tan"),
               lambda t, ans, x: mul(t, add_p(const(1, ans), mul(ans, ans))))
sinh_p = _unary("sinh", _ufunc("sinh"), lambda t, ans, x: mul(t, cosh_p(x)))
cosh_p = _unary("cosh", _ufunc("cosh"), lambda t, ans, x: mul(t, sinh_p(x)))

# The inverse functions' derivatives, written so that they hold on the principal branches
# of complex arguments too (acosh' = 1 / (sqrt(x - 1) sqrt(x + 1)), not 1 / sqrt(x**2 - 1),
# which has the wrong sign left of the imaginary axis) and lose no precision near |x| = 1.
asin_p = _unary("asin", _ufunc("asin"),
                lambda t, ans, x: div_p(t, sqrt_p(_one_minus_square(x))))
acos_p = _unary("acos", _ufunc("acos"),
                lambda t, ans, x: neg_p(div_p(t, sqrt_p(_one_minus_square(x)))))
atan_p = _unary("atan", _ufunc("atan"),
                lambda t, ans, x: div_p(t, _one_plus(mul(x, x))))
atanh_p = _unary("atanh", _ufunc("atanh"),
                 lambda t, ans, x: div_p(t, _one_minus_square(x)))


def _asinh_lin(t, ans, x):
    """asinh' = 1 / sqrt(1 + x**2): for real ``x`` as ``1 / hypot(1, x)``, which never
    overflows (x**2 would beyond 1e154); for complex ``x`` on the principal branch."""
    if kind(x.dtype) == "c":
        return div_p(t, sqrt_p(_one_plus(mul(x, x))))
    return div_p(t, hypot_p(const(1, ans), x))


asinh_p = _unary("asinh", _ufunc("asinh"), _asinh_lin)
acosh_p = _unary("acosh", _ufunc("acosh"), lambda t, ans, x: div_p(
    t, mul(sqrt_p(sub_p(x, const(1, x))), sqrt_p(add_p(x, const(1, x))))))

log2_p = _unary("log2", _ufunc("log2"),
                lambda t, ans, x: div_p(t, mul(x, const(math.log(2.0), ans))))
log10_p = _unary("log10", _ufunc("log10"),
                 lambda t, ans, x: div_p(t, mul(x, const(math.log(10.0), ans))))
# (1/x)' = -1/x**2 = -ans**2
reciprocal_p = _unary("reciprocal", _reciprocal_impl,
                      lambda t, ans, x: neg_p(mul(t, mul(ans, ans))))


# Kinks: abs' = sign(x) (0 at 0); relu' = 1 where x > 0, else 0 (0 at 0), as in JAX.


def _abs_lin(t, ans, x, transpose):
    """abs's derivative applied to ``t``. Real ``x``: ``sign(x) t`` written as selections
    (a mask multiply would turn an inf at x = 0 into NaN). Complex ``x``: |z| is not
    holomorphic; its derivative is the real-linear ``dz -> Re(conj(z) dz) / |z|`` (0 at
    z = 0), whose transpose takes a real cotangent g to ``g conj(z) / |z|`` (JAX's
    convention)."""
    if kind(x.dtype) == "c":
        out = mul(t, div_p(conj_p(x), _safe(ans)))
        return out if transpose else astype_p(out, dtype=ans.dtype)
    zero = _zero_like(t)
    xzero = _zero_like(x)
    return where_p(greater_p(x, xzero), t, where_p(less_p(x, xzero), neg_p(t), zero))


abs_p = Primitive("abs", _ufunc("abs"))
abs_p.def_vjp(lambda ans, x: lambda g: (_abs_lin(g, ans, x, transpose=True),))


@abs_p.def_jvp
def _abs_jvp(primals, tangents, params):
    ans = abs_p(primals[0])
    return ans, _abs_lin(tangents[0], ans, primals[0], transpose=False)


relu_p = _unary("relu", _relu_impl,
                lambda t, ans, x: where_p(greater_p(x, _zero_like(x)), t, _zero_like(t)))


# sign is piecewise constant for real x (derivative zero); the namespace's sign of a
# complex x is the composite x / |x| (0 at 0), differentiated by div's and abs's rules.
sign_p = Primitive("sign", _ufunc("sign"), differentiable=False)
stop_gradient_p = Primitive("stop_gradient", lambda x: x, differentiable=False)


# ===================================================================== complex parts
#
# real and imag are real-linear maps from complex to real. Their JVPs are themselves; under
# the pairing Re(a b) their transposes take a real cotangent g to g + 0j and to -1j g (as
# in JAX). Of a real input, real is the input itself and imag is zero (derivative zero).


def _real_impl(x):
    return _of(x).real(x) if kind(x.dtype) == "c" else x


def _imag_impl(x):
    bk = _of(x)
    if kind(x.dtype) == "c":
        return bk.imag(x)
    return bk.zeros(tuple(x.shape), dtype=x.dtype, device=bk.device(x))


real_p = Primitive("real", _real_impl)
real_p.def_vjp(lambda ans, x: lambda g: (
    astype_p(g, dtype=x.dtype) if kind(x.dtype) == "c" else g,))
real_p.def_jvp(lambda p, t, params: (real_p(p[0]), real_p(t[0])))

imag_p = Primitive("imag", _imag_impl)
imag_p.def_vjp(lambda ans, x: lambda g: (
    mul(astype_p(g, dtype=x.dtype), const(-1j, x)) if kind(x.dtype) == "c" else None,))
imag_p.def_jvp(lambda p, t, params: (
    imag_p(p[0]), imag_p(t[0]) if kind(p[0].dtype) == "c" else None))


# ================================================================== binary functions


def _hypot_lin(which):
    """d hypot(a, b) = (a da + b db) / h, no overflow (no squares); 0 at the origin, a
    subgradient of the convex hypot there, as abs' = 0 at 0."""
    def lin(t, ans, a, b):
        return mul(t, div_p((a, b)[which], _safe(ans)))
    return lin


hypot_p = _binary_rules(Primitive("hypot", _ufunc("hypot")), _hypot_lin(0), _hypot_lin(1))


def _atan2_lin(which):
    """d atan2(y, x) = (x dy - y dx) / (x**2 + y**2), each term written as ``(x / h) / h``
    with ``h = hypot(y, x)``: no overflow or underflow of the squares. At the origin, where
    atan2 is not continuous, the derivative is NaN (0/0), as in JAX and PyTorch."""
    def lin(t, ans, y, x):
        h = hypot_p(y, x)
        if which == 0:
            return mul(t, div_p(div_p(x, h), h))
        return neg_p(mul(t, div_p(div_p(y, h), h)))
    return lin


atan2_p = _binary_rules(Primitive("atan2", _ufunc("atan2")), _atan2_lin(0), _atan2_lin(1))


def _logaddexp_lin(which):
    """d logaddexp(a, b) / da = e**a / (e**a + e**b) = sigmoid(a - b): stable for any
    values. Where a and b are the same infinity, a - b is NaN; each side then gets 1/2 (the
    limit along a = b), by selecting the difference (a constant there) before sigmoid."""
    def lin(t, ans, a, b):
        d = sub_p(a, b) if which == 0 else sub_p(b, a)
        same_inf = logical_and_p(isinf_p(a), equal_p(a, b))
        d = where_p(same_inf, _zero_like(d), d)
        return mul(t, sigmoid_p(d))
    return lin


logaddexp_p = _binary_rules(Primitive("logaddexp", _ufunc("logaddexp")),
                            _logaddexp_lin(0), _logaddexp_lin(1))


def _copysign_lin(t, ans, a, b):
    """copysign(a, b) = |a| with b's sign: d/da = +-1 (as abs, 0 at a = 0), selected, not
    multiplied; d/db = 0 (piecewise constant in b)."""
    zero = _zero_like(t)
    same = equal_p(signbit_p(a), signbit_p(b))
    return where_p(equal_p(a, _zero_like(a)), zero, where_p(same, t, neg_p(t)))


copysign_p = _binary_rules(Primitive("copysign", _ufunc("copysign")), _copysign_lin, None)
# nextafter(a, b) is a moved by one unit in the last place: the identity in a up to
# rounding (as a cast between float types), constant in b
nextafter_p = _binary_rules(Primitive("nextafter", _ufunc("nextafter")),
                            lambda t, ans, a, b: t, None)
# remainder(a, b) = a - floor(a / b) b: d/da = 1, d/db = -floor(a / b) (a constant)
remainder_p = _binary_rules(Primitive("remainder", _ufunc("remainder")),
                            lambda t, ans, a, b: t,
                            lambda t, ans, a, b: neg_p(mul(t, floor_divide_p(a, b))))


# ==================================================== piecewise constant, predicates
#
# Derivative zero: rounding, floor division and signbit are piecewise constant; the
# predicates, comparisons, bitwise and logical functions have integer or boolean results.


def _round_impl(x, *, decimals=0):
    bk = _of(x)
    if decimals == 0:
        return bk.round(x)
    return bk.round_decimals(x, decimals)


floor_p = Primitive("floor", _ufunc("floor"), differentiable=False)
ceil_p = Primitive("ceil", _ufunc("ceil"), differentiable=False)
trunc_p = Primitive("trunc", _ufunc("trunc"), differentiable=False)
round_p = Primitive("round", _round_impl, differentiable=False)
floor_divide_p = Primitive("floor_divide", _ufunc("floor_divide"), differentiable=False)
signbit_p = Primitive("signbit", _ufunc("signbit"), differentiable=False)
isfinite_p = Primitive("isfinite", _ufunc("isfinite"), differentiable=False)
isinf_p = Primitive("isinf", _ufunc("isinf"), differentiable=False)
isnan_p = Primitive("isnan", _ufunc("isnan"), differentiable=False)


# ======================================================================= comparisons


equal_p = Primitive("equal", _ufunc("equal"), differentiable=False)
not_equal_p = Primitive("not_equal", _ufunc("not_equal"), differentiable=False)
less_p = Primitive("less", _ufunc("less"), differentiable=False)
less_equal_p = Primitive("less_equal", _ufunc("less_equal"), differentiable=False)
greater_p = Primitive("greater", _ufunc("greater"), differentiable=False)
greater_equal_p = Primitive("greater_equal", _ufunc("greater_equal"), differentiable=False)
logical_and_p = Primitive("logical_and", _ufunc("logical_and"), differentiable=False)
logical_or_p = Primitive("logical_or", _ufunc("logical_or"), differentiable=False)
logical_xor_p = Primitive("logical_xor", _ufunc("logical_xor"), differentiable=False)
logical_not_p = Primitive("logical_not", _ufunc("logical_not"), differentiable=False)
bitwise_and_p = Primitive("bitwise_and", _ufunc("bitwise_and"), differentiable=False)
bitwise_or_p = Primitive("bitwise_or", _ufunc("bitwise_or"), differentiable=False)
bitwise_xor_p = Primitive("bitwise_xor", _ufunc("bitwise_xor"), differentiable=False)
bitwise_invert_p = Primitive("bitwise_invert", _ufunc("bitwise_invert"),
                             differentiable=False)
bitwise_left_shift_p = Primitive("bitwise_left_shift", _ufunc("bitwise_left_shift"),
                                 differentiable=False)
bitwise_right_shift_p = Primitive("bitwise_right_shift", _ufunc("bitwise_right_shift"),
                                  differentiable=False)


# ======================================================================== selections


def _pick(t, mine, other, wins):
    """``t`` where ``mine`` wins, half of it at ties, zero elsewhere (JAX's convention)."""
    zero = _zero_like(t)
    tie = where_p(equal_p(mine, other), div_p(t, const(2, t)), zero)
    return where_p(wins(mine, other), t, tie)


maximum_p = Primitive("maximum", _ufunc("maximum"))
_binary_rules(maximum_p, lambda t, ans, a, b: _pick(t, a, b, greater_p),
              lambda t, ans, a, b: _pick(t, b, a, greater_p))
minimum_p = Primitive("minimum", _ufunc("minimum"))
_binary_rules(minimum_p, lambda t, ans, a, b: _pick(t, a, b, less_p),
              lambda t, ans, a, b: _pick(t, b, a, less_p))


def _log_or_zero(a):
    """log(a), with log(0) replaced by 0: the exponent's derivative at a zero base is 0
    (where the power is finite), as in JAX."""
    return log_p(where_p(equal_p(a, _zero_like(a)), const(1, a), a))


def _dpow_base(a, b):
    """d(a**b)/da = b a**(b-1), and 0 at a = b = 0 (a**0 is constant there; the product
    would be 0 * inf = NaN). Only that point is selected, so the derivative in ``b``
    elsewhere is untouched, and its base is replaced by 1 before the power, so that no inf
    enters the graph: differentiating again stays finite (the select alone would send a
    zero cotangent into an infinite derivative, NaN again)."""
    both_zero = logical_and_p(equal_p(a, _zero_like(a)), equal_p(b, _zero_like(b)))
    safe_a = where_p(both_zero, const(1, a), a)
    one = const(1, b) if kind(b.dtype) != "b" else \
        _of(_unwrap(b)).scalar(1, _of(_unwrap(b)).int8)  # bool b: b - 1 in int8
    d = mul(b, powt_p(safe_a, sub_p(b, one)))
    return where_p(both_zero, _zero_like(d), d)


# a ** b with a traced exponent (a constant scalar exponent uses ``rules.pow_p``)
powt_p = Primitive("power_traced", _ufunc("pow"))
_binary_rules(powt_p,
              lambda t, ans, a, b: mul(t, _dpow_base(a, b)),
              lambda t, ans, a, b: mul(t, mul(ans, _log_or_zero(a))))


where_p = Primitive("where", lambda c, x, y: _of(x).where(c, x, y))


@where_p.def_fwd_vjp
def _where_fwd_vjp(args, params, argnums):
    c = args[0]
    ans = where_p(*args)

    def vjp(g):
        zero = _zero_like(g)
        picks = {1: lambda: where_p(c, g, zero), 2: lambda: where_p(c, zero, g)}
        return tuple(picks[i]() if i in picks else None for i in argnums)

    return ans, vjp


@where_p.def_jvp
def _where_jvp(primals, tangents, params):
    c, x, y = primals
    ans = where_p(c, x, y)
    tx, ty = tangents[1], tangents[2]
    if tx is None and ty is None:
        return ans, None
    zero = _zero_like(ans)
    tan = where_p(c, zero if tx is None else tx, zero if ty is None else ty)
    return ans, fit_forward(tan, ans)


# ====================================================================== for batching
#
# Every elementwise primitive: its result is the broadcast of its operands' shapes and
# each element depends on the elements at the same position only, so that a batched
# application is the primitive of the operands broadcast together (batch axis first).
# ``astype`` (structural section) is elementwise too.

ELEMENTWISE = (
    add_p, sub_p, neg_p, conj_p, astype_p,
    div_p, pow_p, powt_p, reciprocal_p,
    exp_p, expm1_p, log_p, log1p_p, log2_p, log10_p, sqrt_p,
    sin_p, cos_p, tan_p, asin_p, acos_p, atan_p,
    sinh_p, cosh_p, tanh_p, asinh_p, acosh_p, atanh_p,
    sigmoid_p, softplus_p, relu_p, abs_p, sign_p, real_p, imag_p,
    atan2_p, hypot_p, logaddexp_p, copysign_p, nextafter_p, remainder_p,
    maximum_p, minimum_p, where_p, stop_gradient_p,
    floor_p, ceil_p, trunc_p, round_p, floor_divide_p, signbit_p,
    isfinite_p, isinf_p, isnan_p,
    equal_p, not_equal_p, less_p, less_equal_p, greater_p, greater_equal_p,
    logical_and_p, logical_or_p, logical_xor_p, logical_not_p,
    bitwise_and_p, bitwise_or_p, bitwise_xor_p, bitwise_invert_p,
    bitwise_left_shift_p, bitwise_right_shift_p,
)
