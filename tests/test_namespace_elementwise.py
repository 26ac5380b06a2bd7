"""The array API standard's elementwise functions: one table, every backend.

Each row runs on every backend installed (NumPy, array-api-strict): values against numpy
(same dtype), then ``check_grads`` at order 2 in both modes, on random and edge inputs;
then float32, complex inputs (the no-conjugation convention), the stable formulas at
extreme values, the conventions at kinks, and (when JAX is installed) the derivatives
against ``jax.grad`` in float64.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from _strict_backends import BACKENDS, _np, array_api_strict
from _strict_backends import _on as _to

import einsum_ad as ea
from einsum_ad import backend as _backend

# array-api-strict's dtypes hash like NumPy's: the engine's dtype-keyed dicts (backend.kind,
# _args._pair) compare the two on a hash collision, and array-api-strict warns each time
pytestmark = pytest.mark.filterwarnings(
    "ignore:You are comparing a array_api_strict dtype:UserWarning")
def _r(*shape, lo=-1.0, hi=1.0, seed=0):
    """Uniform in [lo, hi]: inside every function's domain, away from its edges."""
    return np.random.default_rng(seed + 7 * len(shape) + sum(shape)).uniform(lo, hi, shape)


def _away(*shape, seed=0):
    """|x| in [0.2, 1.2], either sign: away from the kinks at 0."""
    x = _r(*shape, lo=0.2, hi=1.2, seed=seed)
    return x * np.where(_r(*shape, seed=seed + 1) > 0, 1, -1)


def _frac(*shape, seed=0):
    """Values k + [0.2, 0.8] for integers k: away from the jumps of floor, ceil, round."""
    rng = np.random.default_rng(seed + sum(shape))
    return rng.integers(-3, 3, shape) + rng.uniform(0.2, 0.8, shape)


def _c(*shape, seed=0, lo=-0.8, hi=0.8):
    return _r(*shape, lo=lo, hi=hi, seed=seed) + 1j * _r(*shape, lo=lo, hi=hi, seed=seed + 5)


# name, function, numpy reference, argument builder (NumPy arrays, moved to each backend)
DIFFERENTIABLE = [
    # arithmetic
    ("add", ea.add, np.add, lambda: (_r(3, 4), _r(4, seed=1))),
    ("add_scalar", lambda x: ea.add(2.0, x), lambda x: 2.0 + x, lambda: (_r(3, 4),)),
    ("subtract", ea.subtract, np.subtract, lambda: (_r(3, 1), _r(4, seed=1))),
    ("multiply", ea.multiply, np.multiply, lambda: (_r(3, 4), _r(3, 4, seed=1))),
    ("divide", ea.divide, np.divide, lambda: (_r(3, 4), _r(4, lo=0.5, hi=2))),
    ("true_divide", ea.true_divide, np.true_divide, lambda: (_r(2, 3), _r(2, 3, lo=0.5))),
    ("negative", ea.negative, np.negative, lambda: (_r(3, 4),)),
    ("positive", ea.positive, np.positive, lambda: (_r(3, 4),)),
    ("pow", ea.pow, np.power, lambda: (_r(3, 4, lo=0.5, hi=2), _r(4))),
    ("pow_scalar", lambda x: ea.pow(x, 3), lambda x: x ** 3, lambda: (_r(3, 4),)),
    ("power", ea.power, np.power, lambda: (_r(3, 4, lo=0.5, hi=2), _r(3, 4, seed=2))),
    ("square", ea.square, np.square, lambda: (_r(3, 4),)),
    ("sqrt", ea.sqrt, np.sqrt, lambda: (_r(3, 4, lo=0.5, hi=2),)),
    ("reciprocal", ea.reciprocal, np.reciprocal, lambda: (_away(3, 4),)),
    ("abs", ea.abs, np.abs, lambda: (_away(3, 4),)),
    ("absolute", ea.absolute, np.absolute, lambda: (_away(3, 4),)),
    ("copysign", ea.copysign, np.copysign, lambda: (_away(3, 4), _away(4, seed=3))),
    ("nextafter", ea.nextafter, np.nextafter, lambda: (_r(3, 4), _r(3, 4, seed=4))),
    ("remainder", ea.remainder, np.remainder, lambda: (_frac(3, 4) * 1.5, np.full(4, 1.5))),
    ("mod", lambda a: ea.mod(a, -0.75), lambda a: np.mod(a, -0.75),
     lambda: (_frac(3, 4) * 0.75,)),
    # exponentials, logarithms
    ("exp", ea.exp, np.exp, lambda: (_r(3, 4),)),
    ("expm1", ea.expm1, np.expm1, lambda: (_r(3, 4),)),
    ("log", ea.log, np.log, lambda: (_r(3, 4, lo=0.5, hi=2),)),
    ("log1p", ea.log1p, np.log1p, lambda: (_r(3, 4, lo=-0.5),)),
    ("log2", ea.log2, np.log2, lambda: (_r(3, 4, lo=0.5, hi=4),)),
    ("log10", ea.log10, np.log10, lambda: (_r(3, 4, lo=0.5, hi=4),)),
    ("logaddexp", ea.logaddexp, np.logaddexp, lambda: (_r(3, 4) * 3, _r(4, seed=1) * 3)),
    # trigonometric, hyperbolic and their inverses
    ("sin", ea.sin, np.sin, lambda: (_r(3, 4) * 3,)),
    ("cos", ea.cos, np.cos, lambda: (_r(3, 4) * 3,)),
    ("tan", ea.tan, np.tan, lambda: (_r(3, 4),)),
    ("asin", ea.asin, np.arcsin, lambda: (_r(3, 4, lo=-0.9, hi=0.9),)),
    ("acos", ea.acos, np.arccos, lambda: (_r(3, 4, lo=-0.9, hi=0.9),)),
    ("atan", ea.atan, np.arctan, lambda: (_r(3, 4) * 3,)),
    ("atan2", ea.atan2, np.arctan2, lambda: (_away(4, 4), _away(4, 4, seed=2))),
    ("sinh", ea.sinh, np.sinh, lambda: (_r(3, 4) * 2,)),
    ("cosh", ea.cosh, np.cosh, lambda: (_r(3, 4) * 2,)),
    ("tanh", ea.tanh, np.tanh, lambda: (_r(3, 4) * 2,)),
    ("asinh", ea.asinh, np.arcsinh, lambda: (_r(3, 4) * 3,)),
    ("acosh", ea.acosh, np.arccosh, lambda: (_r(3, 4, lo=1.2, hi=3),)),
    ("atanh", ea.atanh, np.arctanh, lambda: (_r(3, 4, lo=-0.9, hi=0.9),)),
    ("hypot", ea.hypot, np.hypot, lambda: (_r(3, 4), _r(3, 4, seed=3))),
    ("arcsin", ea.arcsin, np.arcsin, lambda: (_r(3, lo=-0.9, hi=0.9),)),
    ("arccos", ea.arccos, np.arccos, lambda: (_r(3, lo=-0.9, hi=0.9),)),
    ("arctan", ea.arctan, np.arctan, lambda: (_r(3),)),
    ("arctan2", ea.arctan2, np.arctan2, lambda: (_away(3), _away(3, seed=1))),
    ("arcsinh", ea.arcsinh, np.arcsinh, lambda: (_r(3),)),
    ("arccosh", ea.arccosh, np.arccosh, lambda: (_r(3, lo=1.5, hi=2),)),
    ("arctanh", ea.arctanh, np.arctanh, lambda: (_r(3, lo=-0.5, hi=0.5),)),
    # complex parts of real input
    ("real_of_real", ea.real, np.real, lambda: (_r(3, 4),)),
    ("conj_of_real", ea.conj, np.conj, lambda: (_r(3, 4),)),
    ("conjugate_of_real", ea.conjugate, np.conjugate, lambda: (_r(3),)),
    # selections
    ("maximum", ea.maximum, np.maximum, lambda: (_r(3, 1), _r(4, seed=1))),
    ("minimum", ea.minimum, np.minimum, lambda: (_r(3, 4), _r(3, 4, seed=1))),
    ("clip", lambda x: ea.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
     lambda: (_away(3, 4) * 0.9,)),
    ("clip_arrays", ea.clip, np.clip,
     lambda: (_away(3, 4), np.full(4, -0.5), np.full((3, 1), 0.6))),
    ("clip_max_keyword", lambda x: ea.clip(x, max=0.1), lambda x: np.minimum(x, 0.1),
     lambda: (_away(3, 4),)),
    # piecewise constant: derivative zero (checked against finite differences too)
    ("floor", ea.floor, np.floor, lambda: (_frac(3, 4),)),
    ("ceil", ea.ceil, np.ceil, lambda: (_frac(3, 4),)),
    ("trunc", ea.trunc, np.trunc, lambda: (_frac(3, 4),)),
    ("round", ea.round, np.round, lambda: (_frac(3, 4),)),
    # (ea.multiply: a constant array-api-strict array's * raises on a traced operand)
    ("round_times_x", lambda x: ea.multiply(ea.round(x), x), lambda x: np.round(x) * x,
     lambda: (_frac(3, 4),)),
    ("round_decimals", lambda x: ea.round(x, 1), lambda x: np.round(x, 1),
     lambda: (_frac(3, 4) / 10 + 0.005,)),
    ("floor_divide", ea.floor_divide, np.floor_divide,
     lambda: (_frac(3, 4) * 2, np.full(4, 2.0))),
    ("sign", ea.sign, np.sign, lambda: (_away(3, 4),)),
    ("sign_times_x", lambda x: ea.multiply(ea.sign(x), x), lambda x: np.sign(x) * x,
     lambda: (_away(3, 4),)),
    # edge inputs: empty, 0-d, broadcasting against 0-d
    ("atan2_empty", ea.atan2, np.arctan2, lambda: (_r(0, 3), _r(3))),
    ("hypot_0d", ea.hypot, np.hypot, lambda: (np.array(0.3), _r(3))),
    ("logaddexp_0d", ea.logaddexp, np.logaddexp, lambda: (np.array(-0.3), np.array(0.7))),
    ("asinh_empty", ea.asinh, np.arcsinh, lambda: (_r(2, 0),)),
]

# complex inputs (holomorphic functions, and the real-linear parts, abs and sign)
COMPLEX = [
    ("exp", ea.exp, np.exp), ("log", ea.log, np.log), ("sqrt", ea.sqrt, np.sqrt),
    ("log2", ea.log2, np.log2), ("log10", ea.log10, np.log10),
    ("reciprocal", ea.reciprocal, np.reciprocal), ("sin", ea.sin, np.sin),
    ("cos", ea.cos, np.cos), ("tan", ea.tan, np.tan), ("asin", ea.asin, np.arcsin),
    ("acos", ea.acos, np.arccos), ("atan", ea.atan, np.arctan), ("sinh", ea.sinh, np.sinh),
    ("cosh", ea.cosh, np.cosh), ("tanh", ea.tanh, np.tanh), ("asinh", ea.asinh, np.arcsinh),
    ("acosh", ea.acosh, np.arccosh), ("atanh", ea.atanh, np.arctanh),
    ("square", ea.square, np.square), ("expm1", ea.expm1, np.expm1),
    ("log1p", ea.log1p, np.log1p),
    ("real", ea.real, np.real), ("imag", ea.imag, np.imag), ("conj", ea.conj, np.conj),
    ("abs", ea.abs, np.abs), ("sign", ea.sign, np.sign),
    ("pow", lambda z: ea.pow(z, 1.5 + 0.5j), lambda z: np.power(z, 1.5 + 0.5j)),
    ("real_times_imag", lambda z: ea.real(z) * ea.imag(z) + ea.conj(z) * z,
     lambda z: np.real(z) * np.imag(z) + np.conj(z) * z),
]


def _ids(rows):
    return [r[0] for r in rows]


def _check_values(got, want, rtol=1e-12):
    got, want = _np(got), np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,f,ref,build", DIFFERENTIABLE, ids=_ids(DIFFERENTIABLE))
def test_values_match_numpy(backend, name, f, ref, build):
    args = build()
    _check_values(f(*[_to(backend, a) for a in args]), ref(*args))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,f,ref,build", DIFFERENTIABLE, ids=_ids(DIFFERENTIABLE))
def test_gradients_both_modes_second_order(backend, name, f, ref, build):
    ea.check_grads(f, tuple(_to(backend, a) for a in build()), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,f,ref", COMPLEX, ids=_ids(COMPLEX))
def test_complex_values_and_gradients(backend, name, f, ref):
    z = _c(3, 4) + (1.5 if name == "acosh" else 0.0)
    _check_values(f(_to(backend, z)), ref(z))
    ea.check_grads(f, (_to(backend, z),), order=2, modes=("fwd", "rev"))


# ------------------------------------------------------------------------- float32

FLOAT32 = ["exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "reciprocal", "sin", "cos",
           "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
           "real", "conj", "positive", "floor", "ceil", "trunc", "round", "sign"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", FLOAT32)
def test_float32_stays_float32_with_its_derivatives(backend, name):
    f = getattr(ea, name)
    x = _r(3, 4, lo=0.2, hi=0.8)
    if name == "acosh":
        x = x + 1.0
    x32 = _to(backend, x.astype(np.float32))
    out = f(x32)
    assert _backend.dtype_name(out.dtype) == "float32"
    np.testing.assert_allclose(_np(out), _np(f(x)), rtol=2e-6, atol=2e-6)
    g = ea.grad(lambda v: ea.sum(f(v)))(x32)
    assert _backend.dtype_name(g.dtype) == "float32"
    t = ea.jvp(f, (x32,), (x32,))[1]
    assert _backend.dtype_name(t.dtype) == "float32"
    np.testing.assert_allclose(_np(g), _np(ea.grad(lambda v: ea.sum(f(v)))(x)),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["atan2", "hypot", "logaddexp", "copysign", "nextafter",
                                  "remainder", "maximum", "minimum", "pow"])
def test_float32_binary_functions(backend, name):
    f = getattr(ea, name)
    a, b = _r(3, 4, lo=0.3, hi=0.9), _r(3, 4, lo=0.3, hi=0.9, seed=1)
    a32, b32 = (_to(backend, v.astype(np.float32)) for v in (a, b))
    assert _backend.dtype_name(f(a32, b32).dtype) == "float32"
    assert _backend.dtype_name(f(a32, 0.5).dtype) == "float32"  # a weak Python scalar
    ga, gb = ea.grad(lambda u, v: ea.sum(f(u, v)), argnums=(0, 1))(a32, b32)
    assert _backend.dtype_name(ga.dtype) == _backend.dtype_name(gb.dtype) == "float32"


# --------------------------------------------------------------- stable at extremes


def _grads(f, *args):
    """Reverse-mode gradient of ``sum(f(*args))`` in each argument, and the forward-mode
    derivative along ones in each, which must agree."""
    rev = ea.grad(lambda *a: ea.sum(f(*a)), argnums=tuple(range(len(args))))(*args)
    for i in range(len(args)):
        tangents = tuple(np.ones_like(b) if j == i else np.zeros_like(b)
                         for j, b in enumerate(args))
        fwd = ea.jvp(f, args, tangents)[1]
        np.testing.assert_allclose(fwd, rev[i], rtol=1e-14)
    return rev


def test_hypot_never_overflows_nor_underflows():
    a, b = np.array([3e200, 3e-200, 3.0]), np.array([4e200, 4e-200, 4.0])
    np.testing.assert_allclose(ea.hypot(a, b), [5e200, 5e-200, 5.0], rtol=1e-15)
    ga, gb = _grads(ea.hypot, a, b)
    np.testing.assert_allclose(ga, [0.6] * 3, rtol=1e-15)
    np.testing.assert_allclose(gb, [0.8] * 3, rtol=1e-15)
    ea.check_grads(ea.hypot, (a[2:], b[2:]), order=2, modes=("fwd", "rev"))


def test_hypot_at_the_origin_is_zero_and_finite_to_second_order():
    z = np.zeros(2)
    ga, gb = _grads(ea.hypot, z, z)
    np.testing.assert_array_equal(ga, 0)
    np.testing.assert_array_equal(gb, 0)
    h = ea.hessian(lambda v: ea.hypot(v[0], v[1]))(np.zeros(2))
    assert np.all(np.isfinite(h))


QUADRANTS = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0], [-1.0, 1.0], [0.0, -1.0],
                      [1e-200, 3e-200], [2e200, -1e200]])


def test_atan2_quadrants_values_and_derivatives():
    y, x = QUADRANTS[:, 0], QUADRANTS[:, 1]
    np.testing.assert_array_equal(ea.atan2(y, x), np.arctan2(y, x))  # the quadrants
    gy, gx = _grads(ea.atan2, y, x)
    r2 = [Fraction(a) ** 2 + Fraction(b) ** 2 for a, b in zip(y, x)]  # exact
    want_y = [float(Fraction(b) / r) for b, r in zip(x, r2)]
    want_x = [float(-Fraction(a) / r) for a, r in zip(y, r2)]
    np.testing.assert_allclose(gy, want_y, rtol=1e-14)  # where r**2 under/overflows too
    np.testing.assert_allclose(gx, want_x, rtol=1e-14)
    assert np.all(np.isfinite(gy)) and np.all(np.isfinite(gx))


def test_atan2_at_the_origin_has_nan_derivative_as_jax():
    with np.errstate(invalid="ignore"):
        gy, gx = ea.grad(ea.atan2, argnums=(0, 1))(0.0, 0.0)
    assert math.isnan(gy) and math.isnan(gx)


def test_logaddexp_stable_at_large_and_infinite_values():
    inf = np.inf
    a = np.array([1e4, 1e4, -1e4, -inf, inf, inf, 0.0])
    b = np.array([1e4, -1e4, -1e4 + 1.0, -inf, inf, 1.0, -inf])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(ea.logaddexp(a, b), np.logaddexp(a, b))
        ga, gb = _grads(ea.logaddexp, a, b)
    s = 1 / (1 + math.e)
    np.testing.assert_allclose(ga, [0.5, 1.0, s, 0.5, 0.5, 1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(gb, [0.5, 0.0, 1 - s, 0.5, 0.5, 0.0, 0.0], rtol=1e-15)
    ea.check_grads(ea.logaddexp, (a[:3], b[:3]), order=2, modes=("fwd", "rev"), eps=1e-9)


def test_logaddexp_second_derivative_at_a_tie_is_a_quarter():
    """A regression guard: selecting the difference a - b at *every* tie (not only at
    equal infinities) would make the second derivative 0 there instead of 1/4."""
    h = ea.hessian(lambda v: ea.logaddexp(v[0], v[1]))(np.array([2.0, 2.0]))
    np.testing.assert_allclose(h, [[0.25, -0.25], [-0.25, 0.25]], rtol=1e-15)


def test_inverse_functions_exact_near_their_singularities():
    x = 1 - 2.0 ** -40  # (1 - x)(1 + x) is exact there; 1 - x**2 loses 13 digits
    want = 1 / math.sqrt(float((1 - Fraction(x)) * (1 + Fraction(x))))
    np.testing.assert_allclose(ea.grad(ea.asin)(x), want, rtol=1e-15)
    np.testing.assert_allclose(ea.grad(ea.acos)(x), -want, rtol=1e-15)
    np.testing.assert_allclose(ea.grad(ea.atanh)(x), want ** 2, rtol=1e-15)
    big = 1e160  # asinh' = 1/sqrt(1 + x**2): x**2 overflows, hypot(1, x) does not
    np.testing.assert_allclose(ea.grad(ea.asinh)(big), 1e-160, rtol=1e-15)
    assert np.isfinite(ea.grad(ea.grad(ea.asinh))(big))
    np.testing.assert_allclose(ea.grad(ea.acosh)(1e200), 1e-200, rtol=1e-15)


def test_copysign_and_kinks():
    a = np.array([2.0, 2.0, 0.0, -0.0, -3.0])
    b = np.array([-1.0, 0.0, -1.0, 1.0, -0.0])
    ga, gb = _grads(ea.copysign, a, b)
    np.testing.assert_array_equal(ga, [-1, 1, 0, 0, 1])  # sign(a b); 0 at a = 0, as abs
    np.testing.assert_array_equal(gb, 0)


def test_remainder_derivative_in_the_divisor_is_minus_the_floor_quotient():
    a, b = np.array([7.0, -7.0, 7.5]), np.array([2.0, 2.0, -2.0])
    ga, gb = _grads(ea.remainder, a, b)
    np.testing.assert_array_equal(ga, 1)
    np.testing.assert_array_equal(gb, -np.floor(a / b))


def test_nextafter_derivative_is_the_identity_in_its_first_operand():
    ga, gb = _grads(ea.nextafter, np.array([1.0, -2.0]), np.array([2.0, -np.inf]))
    np.testing.assert_array_equal(ga, 1)
    np.testing.assert_array_equal(gb, 0)


def test_complex_parts_follow_the_no_conjugation_convention():
    """JAX's convention (README, "Complex numbers"): grad of a real function of z is
    df/dx - i df/dy, the conjugate of the steepest-ascent direction."""
    z = np.array([1.0 + 2.0j, -0.5 + 0.25j])
    np.testing.assert_array_equal(ea.grad(lambda z: ea.sum(ea.real(z)))(z), [1, 1])
    np.testing.assert_array_equal(ea.grad(lambda z: ea.sum(ea.imag(z)))(z), [-1j, -1j])
    np.testing.assert_allclose(ea.grad(lambda z: ea.sum(ea.abs(z)))(z), np.conj(z) / abs(z))
    # JVPs are the plain derivatives
    t = np.array([0.5 - 1j, 2j])
    np.testing.assert_array_equal(ea.jvp(ea.real, (z,), (t,))[1], np.real(t))
    np.testing.assert_array_equal(ea.jvp(ea.imag, (z,), (t,))[1], np.imag(t))
    np.testing.assert_array_equal(ea.jvp(ea.conj, (z,), (t,))[1], np.conj(t))


def test_complex_sign_is_zero_at_zero_with_finite_derivatives():
    z = np.array([0j, 3 + 4j])
    np.testing.assert_allclose(ea.sign(z), np.sign(z), rtol=1e-15)  # x / |x|: 1 ulp
    (g,) = ea.vjp(ea.sign, z)[1](np.ones(2, complex))
    np.testing.assert_array_equal(g[0], 0)
    assert np.all(np.isfinite(g))
    _, t = ea.jvp(ea.sign, (z,), (np.array([1j, 1j]),))
    np.testing.assert_allclose(t, [0, 1j / 5 - (0.6 + 0.8j) * (0.8 / 5)])


def test_imag_of_a_real_input_is_zero_and_constant():
    x = np.array([1.0, -2.0])
    np.testing.assert_array_equal(ea.imag(x), np.imag(x))
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.imag(x) + x))(x), [1, 1])


# ------------------------------------------------- boolean and integer results: constants

PREDICATES = [
    ("isfinite", ea.isfinite, np.isfinite), ("isinf", ea.isinf, np.isinf),
    ("isnan", ea.isnan, np.isnan), ("signbit", ea.signbit, np.signbit),
    ("logical_not", lambda x: ea.logical_not(x > 0), lambda x: np.logical_not(x > 0)),
    ("equal", lambda x: ea.equal(x, 0.5), lambda x: np.equal(x, 0.5)),
    ("not_equal", lambda x: ea.not_equal(0.5, x), lambda x: np.not_equal(0.5, x)),
    ("less", lambda x: ea.less(x, 0.0), lambda x: x < 0),
    ("less_equal", lambda x: ea.less_equal(x, 0.0), lambda x: x <= 0),
    ("greater", lambda x: ea.greater(x, 0.0), lambda x: x > 0),
    ("greater_equal", lambda x: ea.greater_equal(x, 0.0), lambda x: x >= 0),
    ("logical_and", lambda x: ea.logical_and(x > 0, x < 0.5),
     lambda x: np.logical_and(x > 0, x < 0.5)),
    ("logical_or", lambda x: ea.logical_or(x > 0, x < -0.5),
     lambda x: np.logical_or(x > 0, x < -0.5)),
    ("logical_xor", lambda x: ea.logical_xor(x > 0, x < 0.5),
     lambda x: np.logical_xor(x > 0, x < 0.5)),
]
SPECIAL = np.array([0.5, -0.0, 0.0, -1.5, np.inf, -np.inf, np.nan, 0.25])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,f,ref", PREDICATES, ids=_ids(PREDICATES))
def test_predicates_values_and_zero_derivatives(backend, name, f, ref):
    x = _to(backend, SPECIAL)
    _check_values(f(x), ref(SPECIAL))
    finite = _to(backend, np.array([0.5, -1.0, 0.25]))

    def masked(v):  # a traced predicate selects; its own derivative is zero
        return ea.where(f(v), v, 2.0 * v)

    g = ea.grad(lambda v: ea.sum(masked(v)))(finite)
    m = np.asarray(ref(np.array([0.5, -1.0, 0.25])))
    np.testing.assert_array_equal(_np(g), np.where(m, 1.0, 2.0))
    _, t = ea.jvp(lambda v: ea.astype(f(v), ea.float64), (finite,), (finite,))
    np.testing.assert_array_equal(_np(t), 0)


INTEGER = [
    ("bitwise_and", ea.bitwise_and, np.bitwise_and, 2),
    ("bitwise_or", ea.bitwise_or, np.bitwise_or, 2),
    ("bitwise_xor", ea.bitwise_xor, np.bitwise_xor, 2),
    ("bitwise_invert", ea.bitwise_invert, np.invert, 1),
    ("bitwise_not", ea.bitwise_not, np.bitwise_not, 1), ("invert", ea.invert, np.invert, 1),
    ("bitwise_left_shift", ea.bitwise_left_shift, np.left_shift, 2),
    ("left_shift", ea.left_shift, np.left_shift, 2),
    ("bitwise_right_shift", ea.bitwise_right_shift, np.right_shift, 2),
    ("right_shift", ea.right_shift, np.right_shift, 2),
    ("floor_divide", ea.floor_divide, np.floor_divide, 2),
    ("remainder", ea.remainder, np.remainder, 2),
    ("floor", ea.floor, np.floor, 1), ("sign", ea.sign, np.sign, 1),
    ("abs", ea.abs, np.abs, 1), ("square", ea.square, np.square, 1),
    ("positive", ea.positive, np.positive, 1), ("negative", ea.negative, np.negative, 1),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["int8", "int64", "uint16"])
@pytest.mark.parametrize("name,f,ref,arity", INTEGER, ids=_ids(INTEGER))
def test_integer_functions_keep_the_integer_dtype(backend, dtype, name, f, ref, arity):
    if dtype.startswith("u") and name in ("negative", "sign", "abs") and backend != "numpy":
        pytest.skip("array-api-strict: the standard leaves unsigned negation undefined")
    a = np.array([[5, 7, 1], [3, 0, 6]], dtype=dtype)
    b = np.array([2, 1, 3], dtype=dtype)
    args = (a, b)[:arity]
    with np.errstate(over="ignore"):
        want = ref(*args)
        _check_values(f(*[_to(backend, v) for v in args]), want)
    if arity == 2:  # a Python int is weak: it takes the array's dtype
        _check_values(f(_to(backend, a), 1), ref(a, 1))


def test_bool_logic_and_bitwise():
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    for f, ref in ((ea.logical_and, np.logical_and), (ea.logical_or, np.logical_or),
                   (ea.logical_xor, np.logical_xor), (ea.bitwise_and, np.bitwise_and),
                   (ea.bitwise_or, np.bitwise_or), (ea.bitwise_xor, np.bitwise_xor)):
        _check_values(f(p, q), ref(p, q))
    _check_values(ea.bitwise_invert(p), np.invert(p))


# ----------------------------------------------------------------------- semantics


def test_signatures_are_the_standards_positional_only_operands():
    import inspect

    for name in ("abs", "asin", "atan2", "hypot", "add", "pow", "round", "sign", "real"):
        params = list(inspect.signature(getattr(ea, name)).parameters.values())
        assert params[0].kind is inspect.Parameter.POSITIONAL_ONLY, name
    clip = inspect.signature(ea.clip).parameters
    assert [p for p in clip][:3] == ["x", "min", "max"]
    assert clip["a_min"].kind is inspect.Parameter.KEYWORD_ONLY


def test_numpy_names_are_the_standard_functions():
    for numpy_name, standard in (("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                                 ("arctan2", "atan2"), ("arcsinh", "asinh"),
                                 ("arccosh", "acosh"), ("arctanh", "atanh"),
                                 ("absolute", "abs"), ("conjugate", "conj"),
                                 ("mod", "remainder"), ("true_divide", "divide"),
                                 ("invert", "bitwise_invert"), ("bitwise_not", "bitwise_invert"),
                                 ("left_shift", "bitwise_left_shift"),
                                 ("right_shift", "bitwise_right_shift")):
        assert getattr(ea, numpy_name) is getattr(ea, standard)
    np.testing.assert_array_equal(ea.power(np.array([2.0]), 3), ea.pow(np.array([2.0]), 3))


@pytest.mark.parametrize("backend", BACKENDS)
def test_promotion_and_broadcasting(backend):
    a = _to(backend, np.ones((2, 1), np.float32))
    b = _to(backend, np.ones(3, np.float64))
    for f in (ea.atan2, ea.hypot, ea.logaddexp, ea.copysign, ea.remainder, ea.maximum):
        out = f(a, b)
        assert out.shape == (2, 3) and _backend.dtype_name(out.dtype) == "float64"
        assert _backend.dtype_name(f(a, 2).dtype) == "float32"
        assert _backend.dtype_name(f(2.0, a).dtype) == "float32"
    with pytest.raises(ValueError, match="broadcast"):
        ea.hypot(np.ones(3), np.ones(4))


def test_numpy_promotes_integers_to_floats_as_numpy():
    x = np.array([1, 2], np.int8)
    for name in ("sin", "log2", "asinh", "reciprocal"):
        with np.errstate(divide="ignore"):
            got, want = getattr(ea, name)(x), getattr(np, {"asinh": "arcsinh"}.get(name,
                                                                                   name))(x)
        assert np.asarray(got).dtype == np.asarray(want).dtype, name
    assert ea.atan2(x, 1).dtype == np.arctan2(x, 1).dtype


def test_clip_follows_the_standard():
    x = np.array([-2.0, 0.5, np.nan, 3.0])
    np.testing.assert_array_equal(ea.clip(x), x)  # no bounds: the values, a new array
    assert ea.clip(x) is not x
    np.testing.assert_array_equal(ea.clip(x, np.nan, 1.0), [np.nan] * 4)  # NaN bound: NaN
    np.testing.assert_array_equal(ea.clip(x, a_min=0.0, a_max=1.0), np.clip(x, 0, 1))
    assert ea.clip(np.ones(2, np.float32), 0.0, 0.5).dtype == np.float32
    tr = ea.grad(lambda v: ea.sum(ea.clip(v)))(np.ones(2))  # traced, no bounds
    np.testing.assert_array_equal(tr, [1, 1])


def test_round_special_cases():
    x = np.array([0.5, 1.5, 2.5, -0.5, -0.0, np.inf, -np.inf, np.nan])
    got = ea.round(x)
    np.testing.assert_array_equal(got, np.round(x))
    assert np.signbit(got[3]) and np.signbit(got[4])
    np.testing.assert_array_equal(ea.round(np.array([1.5 + 2.5j])), [2 + 2j])
    np.testing.assert_array_equal(ea.round(np.array([15, 25, 35]), -1), [20, 20, 40])
    with pytest.raises(TypeError, match="decimals"):
        ea.round(x, 1.5)


def test_round_decimals_on_the_generic_backend_matches_numpy():
    if array_api_strict is None:
        pytest.skip("array-api-strict is not installed")
    x = np.array([1.2345, -2.5678, 125.0, 0.125, 1e300])
    for d in (2, 0, -1):
        got = _np(ea.round(array_api_strict.asarray(x), d))
        np.testing.assert_array_equal(got, np.round(x, d))
    ints = np.array([15, 25, 123])
    np.testing.assert_array_equal(_np(ea.round(array_api_strict.asarray(ints), -1)),
                                  np.round(ints, -1))


def test_plain_inputs_give_numpy_results():
    assert isinstance(ea.asin(0.5), np.float64)
    assert isinstance(ea.hypot(3, 4), np.float64) and ea.hypot(3, 4) == 5.0
    assert isinstance(ea.isnan(np.float32(1)), np.bool_)
    np.testing.assert_array_equal(ea.atan2([1.0, -1.0], [[1.0], [-1.0]]),
                                  np.arctan2([1.0, -1.0], [[1.0], [-1.0]]))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ea.asin("x"), TypeError, "operand 0"),
    (lambda: ea.atan2(np.ones(2), None), TypeError, "operand 1"),
    (lambda: ea.hypot(np.ones((2, 3)), np.ones((3, 2))), ValueError, "broadcast"),
    (lambda: ea.round(np.ones(2), decimals="2"), TypeError, "decimals"),
    (lambda: ea.clip(np.ones(2), 0, a_min=0), TypeError, "twice"),
])
def test_bad_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# ---------------------------------------------------------------- against JAX, float64

JAX_FUNCTIONS = ["asin", "acos", "atan", "asinh", "acosh", "atanh", "sinh", "cosh", "tan",
                 "log2", "log10", "reciprocal", "expm1", "log1p"]
JAX_BINARY = ["atan2", "hypot", "logaddexp", "copysign", "remainder"]  # JAX: no nextafter


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("name", JAX_FUNCTIONS)
def test_unary_derivatives_match_jax(jax, name):
    import jax.numpy as jnp

    x = _r(5, lo=0.1, hi=0.8) + (1.5 if name == "acosh" else 0.0)
    z = _c(5) + (1.5 if name == "acosh" else 0.0)
    f, jf = getattr(ea, name), getattr(jnp, name)
    for v in (x, z):
        u = np.cos(np.arange(5.0)) + (1j * np.sin(np.arange(5.0)) if v is z else 0)
        got = ea.vjp(f, v)[1](u)[0]
        want = jax.vjp(jf, jnp.asarray(v))[1](jnp.asarray(u))[0]
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-14)
        h = ea.grad(lambda v: ea.sum(ea.real(ea.grad(lambda w: ea.sum(ea.real(f(w))))(v))))
        jh = jax.grad(lambda v: jnp.sum(jnp.real(jax.grad(
            lambda w: jnp.sum(jnp.real(jf(w))))(v))))
        if v is x:
            np.testing.assert_allclose(h(v), np.asarray(jh(jnp.asarray(v))), rtol=1e-11)


@pytest.mark.parametrize("name", JAX_BINARY)
def test_binary_derivatives_match_jax(jax, name):
    import jax.numpy as jnp

    a, b = _away(6) * 1.7, _away(6, seed=3) * 0.9
    f, jf = getattr(ea, name), getattr(jnp, name)
    got = ea.grad(lambda a, b: ea.sum(f(a, b) * a), argnums=(0, 1))(a, b)
    want = jax.grad(lambda a, b: jnp.sum(jf(a, b) * a), argnums=(0, 1))(jnp.asarray(a),
                                                                       jnp.asarray(b))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-12, atol=1e-14)


def test_complex_parts_and_sign_match_jax(jax):
    import jax.numpy as jnp

    z = _c(4)
    for f, jf in ((lambda z: ea.real(z) * ea.imag(z), lambda z: jnp.real(z) * jnp.imag(z)),
                  (lambda z: ea.abs(ea.sign(z) + z), lambda z: jnp.abs(jnp.sign(z) + z)),
                  (lambda z: ea.abs(ea.conj(z) * z + 1j), lambda z: jnp.abs(jnp.conj(z) * z
                                                                           + 1j))):
        got = ea.grad(lambda z, f=f: ea.sum(f(z)))(z)
        want = jax.grad(lambda z, jf=jf: jnp.sum(jf(z)))(jnp.asarray(z))
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-14)


def test_every_elementwise_primitive_is_marked_for_batching():
    """``rules.ELEMENTWISE`` (read by batching transforms) holds every primitive of the
    table's elementwise, derivative-zero and linear sections, and nothing else."""
    from einsum_ad import rules

    sections = ("linear", "elementwise", "constant (derivative zero)")
    table = {p for s in sections for p in rules.PRIMITIVES[s]} | {rules.astype_p}
    assert set(rules.ELEMENTWISE) == table
    assert len(rules.ELEMENTWISE) == len(set(rules.ELEMENTWISE))
