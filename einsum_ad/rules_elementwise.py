"""The rule table, elementwise sections: unary functions, selections, comparisons.

Part of the one rule table (``rules.py`` imports it). Every rule computes with primitives,
so it can be differentiated again. A rule may return a cotangent with the broadcast shape:
the backward pass's ``rules.fit`` sums it back. Masks never multiply a cotangent (``inf *
0`` is NaN): they select with ``where``. Non-differentiable primitives (``sign``, the
comparisons, ``stop_gradient``) have derivative zero in both modes.
"""

from __future__ import annotations

import numpy as np

from .core import Primitive
from .rules import _fit_forward, add_p, astype_p, div_p, mul, neg_p, sub_p

__all__ = ["exp_p", "log_p", "log1p_p", "expm1_p", "sqrt_p", "abs_p", "tanh_p", "sigmoid_p",
           "softplus_p", "relu_p", "sin_p", "cos_p", "sign_p", "stop_gradient_p", "maximum_p",
           "minimum_p", "where_p", "conj_p", "powt_p", "equal_p", "not_equal_p", "less_p",
           "less_equal_p", "greater_p", "greater_equal_p", "const"]


def const(value, like):
    """A 0-d constant with the dtype of ``like`` (an array or traced value)."""
    return np.asarray(value, dtype=like.dtype)


def _inexact(x):
    """``x`` as an inexact array, with the float type numpy's ufuncs give integers."""
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(np.result_type(x.dtype, np.float16))
    return x


def _zero_like(x):
    return np.zeros((), dtype=x.dtype)


# ============================================================================ unary
#
# ``_unary(name, impl, lin)``: ``lin(t, ans, x)`` is the derivative applied to ``t`` (a
# tangent or a cotangent: for a real elementwise function the two coincide).


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


def _sigmoid_impl(x):
    x = _inexact(x)
    if x.dtype.kind == "c":
        return 1 / (1 + np.exp(-x))
    e = np.exp(-np.abs(x))  # in [0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _relu_impl(x):
    x = np.asarray(x)
    return np.maximum(x, _zero_like(x))


def _softplus_impl(x):
    x = _inexact(x)
    return np.logaddexp(x, _zero_like(x))  # log(1 + e^x) without overflow


exp_p = _unary("exp", np.exp, lambda t, ans, x: mul(t, ans))
log_p = _unary("log", np.log, lambda t, ans, x: div_p(t, x))
log1p_p = _unary("log1p", np.log1p, lambda t, ans, x: div_p(t, _one_plus(x)))
expm1_p = _unary("expm1", np.expm1, lambda t, ans, x: mul(t, _one_plus(ans)))
sqrt_p = _unary("sqrt", np.sqrt, lambda t, ans, x: div_p(t, mul(ans, const(2, ans))))
tanh_p = _unary("tanh", np.tanh,
                lambda t, ans, x: mul(t, sub_p(const(1, ans), mul(ans, ans))))
sin_p = _unary("sin", np.sin, lambda t, ans, x: mul(t, cos_p(x)))
cos_p = _unary("cos", np.cos, lambda t, ans, x: neg_p(mul(t, sin_p(x))))
# sigmoid' = sigmoid(x) sigmoid(-x): both factors exact in the tails (1 - sigmoid is not)
sigmoid_p = _unary("sigmoid", _sigmoid_impl,
                   lambda t, ans, x: mul(t, mul(ans, sigmoid_p(neg_p(x)))))
softplus_p = _unary("softplus", _softplus_impl, lambda t, ans, x: mul(t, sigmoid_p(x)))

# Kinks: abs' = sign(x) (0 at 0); relu' = 1 where x > 0, else 0 (0 at 0), as in JAX.
sign_p = Primitive("sign", np.sign, differentiable=False)

# conj is linear; its transpose (no conjugation convention) is conj again, as in JAX.
conj_p = Primitive("conj", np.conj)
conj_p.def_vjp(lambda ans, x: lambda g: (conj_p(g),))
conj_p.def_jvp(lambda p, t, params: (conj_p(p[0]), conj_p(t[0])))


def _abs_lin(t, ans, x, transpose):
    """abs's derivative applied to ``t``. Real ``x``: ``sign(x) t`` written as selections
    (a mask multiply would turn an inf at x = 0 into NaN). Complex ``x``: |z| is not
    holomorphic; its derivative is the real-linear ``dz -> Re(conj(z) dz) / |z|`` (0 at
    z = 0), whose transpose takes a real cotangent g to ``g conj(z) / |z|`` (JAX's
    convention)."""
    if np.dtype(x.dtype).kind == "c":
        safe = where_p(equal_p(ans, _zero_like(ans)), const(1, ans), ans)
        out = mul(t, div_p(conj_p(x), safe))
        return out if transpose else astype_p(out, dtype=ans.dtype)
    zero = _zero_like(t)
    xzero = _zero_like(x)
    return where_p(greater_p(x, xzero), t, where_p(less_p(x, xzero), neg_p(t), zero))


abs_p = Primitive("abs", np.abs)
abs_p.def_vjp(lambda ans, x: lambda g: (_abs_lin(g, ans, x, transpose=True),))


@abs_p.def_jvp
def _abs_jvp(primals, tangents, params):
    ans = abs_p(primals[0])
    return ans, _abs_lin(tangents[0], ans, primals[0], transpose=False)

relu_p = _unary("relu", _relu_impl,
                lambda t, ans, x: where_p(greater_p(x, _zero_like(x)), t, _zero_like(t)))

stop_gradient_p = Primitive("stop_gradient", lambda x: x, differentiable=False)


# ======================================================================= comparisons


equal_p = Primitive("equal", np.equal, differentiable=False)
not_equal_p = Primitive("not_equal", np.not_equal, differentiable=False)
less_p = Primitive("less", np.less, differentiable=False)
less_equal_p = Primitive("less_equal", np.less_equal, differentiable=False)
greater_p = Primitive("greater", np.greater, differentiable=False)
greater_equal_p = Primitive("greater_equal", np.greater_equal, differentiable=False)
logical_and_p = Primitive("logical_and", np.logical_and, differentiable=False)


# ======================================================================== selections


def _binary_rules(p, lin_a, lin_b):
    """Register a binary primitive's rules from ``lin_k(t, ans, a, b)``, linear in ``t``.

    The VJP computes only the cotangents that are asked for; the JVP sums the two terms
    and broadcasts the tangent to the result's shape.
    """
    lins = (lin_a, lin_b)

    @p.def_fwd_vjp
    def _fwd_vjp(args, params, argnums):
        ans = p(*args)
        return ans, lambda g: tuple(lins[i](g, ans, *args) for i in argnums)

    @p.def_jvp
    def _jvp(primals, tangents, params):
        ans = p(*primals)
        tan = None
        for lin, t in zip(lins, tangents):
            if t is not None:
                term = lin(t, ans, *primals)
                tan = term if tan is None else add_p(tan, term)
        return ans, _fit_forward(tan, ans)


def _pick(t, mine, other, wins):
    """``t`` where ``mine`` wins, half of it at ties, zero elsewhere (JAX's convention)."""
    zero = _zero_like(t)
    tie = where_p(equal_p(mine, other), div_p(t, const(2, t)), zero)
    return where_p(wins(mine, other), t, tie)


maximum_p = Primitive("maximum", np.maximum)
_binary_rules(maximum_p, lambda t, ans, a, b: _pick(t, a, b, greater_p),
              lambda t, ans, a, b: _pick(t, b, a, greater_p))
minimum_p = Primitive("minimum", np.minimum)
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
    one = np.ones((), dtype=np.result_type(b.dtype, np.int8))  # bool b: b - 1 in int8
    d = mul(b, powt_p(safe_a, sub_p(b, one)))
    return where_p(both_zero, _zero_like(d), d)


# a ** b with a traced exponent (a constant scalar exponent uses ``rules.pow_p``)
powt_p = Primitive("power_traced", np.power)
_binary_rules(powt_p,
              lambda t, ans, a, b: mul(t, _dpow_base(a, b)),
              lambda t, ans, a, b: mul(t, mul(ans, _log_or_zero(a))))


def _where_impl(c, x, y):
    """``numpy.where``, bit for bit; for a boolean mask over float32/float64 arrays it
    selects with integer masks instead, since numpy's branchy loop costs ~3 ns per element
    on a random mask (200 us for 128x512, against 10-30 us)."""
    c, x, y = np.asarray(c), np.asarray(x), np.asarray(y)
    ity = {4: np.int32, 8: np.int64}.get(x.dtype.itemsize)
    if (c.dtype != np.bool_ or x.dtype != y.dtype or x.dtype.kind != "f" or ity is None
            or c.shape != x.shape or y.shape not in ((), x.shape) or x.size < 4096):
        return np.where(c, x, y)
    if y.shape == () and not y.view(ity):  # y is +0.0: x's bits times 0 or 1, one pass
        return np.multiply(x.view(ity), c.view(np.uint8), dtype=ity).view(x.dtype)
    m = c.astype(ity)
    np.negative(m, out=m)  # all ones where c, zeros elsewhere
    out = np.bitwise_and(m, x.view(ity))
    np.invert(m, out=m)
    np.bitwise_and(m, np.broadcast_to(y, x.shape).view(ity), out=m)
    np.bitwise_or(out, m, out=out)
    return out.view(x.dtype)


where_p = Primitive("where", _where_impl)


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
    return ans, _fit_forward(tan, ans)
