"""The rule table, elementwise sections: arithmetic, unary functions, selections, comparisons.

Part of the one rule table (``rules/__init__.py`` lists every primitive). Every rule
computes with primitives, so it can be differentiated again. A rule may return a cotangent
with the broadcast shape: the backward pass's ``fit`` sums it back. Masks never multiply a
cotangent (``inf * 0`` is NaN): they select with ``where``. Non-differentiable primitives
(``sign``, the comparisons, ``stop_gradient``) have derivative zero in both modes.
"""

from __future__ import annotations

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
           "logical_and_p"]

_of = _backend.of


def _inexact(x):
    """``x`` as an inexact array, with the float type the library's functions give integers."""
    if kind(x.dtype) in "biu":
        bk = _of(x)
        x = bk.astype(x, bk.inexact_dtype(x.dtype))
    return x


def _zero_like(x):
    return const(0, x)


def _ufunc(name):
    """The impl of a primitive that is the backend's function ``name`` itself."""
    def impl(*args):
        return getattr(_of(args[0]), name)(*args)
    impl.__name__ = name
    return impl


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

# Kinks: abs' = sign(x) (0 at 0); relu' = 1 where x > 0, else 0 (0 at 0), as in JAX.
sign_p = Primitive("sign", _ufunc("sign"), differentiable=False)


def _abs_lin(t, ans, x, transpose):
    """abs's derivative applied to ``t``. Real ``x``: ``sign(x) t`` written as selections
    (a mask multiply would turn an inf at x = 0 into NaN). Complex ``x``: |z| is not
    holomorphic; its derivative is the real-linear ``dz -> Re(conj(z) dz) / |z|`` (0 at
    z = 0), whose transpose takes a real cotangent g to ``g conj(z) / |z|`` (JAX's
    convention)."""
    if kind(x.dtype) == "c":
        safe = where_p(equal_p(ans, _zero_like(ans)), const(1, ans), ans)
        out = mul(t, div_p(conj_p(x), safe))
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

stop_gradient_p = Primitive("stop_gradient", lambda x: x, differentiable=False)


# ======================================================================= comparisons


equal_p = Primitive("equal", _ufunc("equal"), differentiable=False)
not_equal_p = Primitive("not_equal", _ufunc("not_equal"), differentiable=False)
less_p = Primitive("less", _ufunc("less"), differentiable=False)
less_equal_p = Primitive("less_equal", _ufunc("less_equal"), differentiable=False)
greater_p = Primitive("greater", _ufunc("greater"), differentiable=False)
greater_equal_p = Primitive("greater_equal", _ufunc("greater_equal"), differentiable=False)
logical_and_p = Primitive("logical_and", _ufunc("logical_and"), differentiable=False)


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
        return ans, fit_forward(tan, ans)


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


# ======================================================================== batching
#
# ``ELEMENTWISE`` lists every elementwise primitive of this section: each one broadcasts
# (``batching.elementwise``), its parameters (``power``'s exponent) passed on.

ELEMENTWISE = (div_p, pow_p, powt_p, exp_p, log_p, log1p_p, expm1_p, sqrt_p, abs_p, tanh_p,
               sigmoid_p, softplus_p, relu_p, sin_p, cos_p, sign_p, stop_gradient_p,
               maximum_p, minimum_p, where_p, equal_p, not_equal_p, less_p, less_equal_p,
               greater_p, greater_equal_p, logical_and_p)

from .batching import elementwise as _batch_elementwise  # noqa: E402

for _p in ELEMENTWISE:
    _p.def_batch(_batch_elementwise(_p))
