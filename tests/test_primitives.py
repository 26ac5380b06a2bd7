"""Elementwise, reduction and structural primitives: one table, checked against numpy (values)
and finite differences (both modes, second order), then edge cases the table cannot say."""

import warnings

import numpy as np
import pytest

import einsum_ad as ea

try:
    import scipy.special as sps
except ImportError:  # references written out by hand instead
    sps = None


def _r(*shape, seed=0, lo=None):
    """Random float64 array; with ``lo``, uniform in [lo, lo + 1] (away from kinks/poles)."""
    rng = np.random.default_rng(seed + 10 * len(shape) + sum(shape))
    if lo is not None:
        return lo + rng.random(shape)
    return rng.standard_normal(shape)


def _away(*shape, seed=0):
    """Random values with |x| in [0.2, 1.2]: no kink of abs/relu/sign near them."""
    x = _r(*shape, seed=seed, lo=0.2)
    return x * np.where(_r(*shape, seed=seed + 1) > 0, 1, -1)


def _sigmoid(x):
    return sps.expit(x) if sps else 0.5 * (1 + np.tanh(x / 2))


def _logsumexp(x, axis=None, keepdims=False):
    if sps:
        return sps.logsumexp(x, axis=axis, keepdims=keepdims)
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax(x, axis=-1):
    return np.exp(x - _logsumexp(x, axis=axis, keepdims=True))


def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


IDX = np.array([2, 0, 0])          # repeated index: the VJP must accumulate
MASK = np.array([[True, False, True, True]] * 3)

# name, function, numpy reference (or None: the function's own numpy twin), argument builder
TABLE = [
    ("add", ea.add, np.add, lambda: (_r(3, 4), _r(4))),
    ("add_scalar", lambda x: x + 2.0, lambda x: x + 2.0, lambda: (_r(3, 4),)),
    ("subtract", ea.subtract, np.subtract, lambda: (_r(3, 1), _r(4))),
    ("rsub", lambda x: 1.0 - x, lambda x: 1.0 - x, lambda: (_r(2, 3),)),
    ("negative", ea.negative, np.negative, lambda: (_r(3, 4),)),
    ("divide", ea.divide, np.divide, lambda: (_r(3, 4), _r(1, 4, lo=0.5))),
    ("power_const", lambda x: x ** 3, lambda x: x ** 3, lambda: (_r(3, 4),)),
    ("power_half", lambda x: ea.power(x, 0.5), np.sqrt, lambda: (_r(3, 4, lo=0.5),)),
    ("power_traced", ea.power, np.power, lambda: (_r(3, 4, lo=0.5), _r(4))),
    ("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, lambda: (_r(3, 4),)),
    ("power_array_exponent", lambda x: ea.power(x, np.array([1.0, 2.0, 3.0])),
     lambda x: x ** np.array([1.0, 2.0, 3.0]), lambda: (_r(2, 3),)),
    ("square", ea.square, np.square, lambda: (_r(3, 4),)),
    ("exp", ea.exp, np.exp, lambda: (_r(3, 4),)),
    ("log", ea.log, np.log, lambda: (_r(3, 4, lo=0.5),)),
    ("log1p", ea.log1p, np.log1p, lambda: (_r(3, 4, lo=-0.5),)),
    ("expm1", ea.expm1, np.expm1, lambda: (_r(3, 4),)),
    ("sqrt", ea.sqrt, np.sqrt, lambda: (_r(3, 4, lo=0.5),)),
    ("abs", ea.abs, np.abs, lambda: (_away(3, 4),)),
    ("abs_operator", lambda x: abs(x) * x, lambda x: np.abs(x) * x, lambda: (_away(3, 4),)),
    ("sign_times_x", lambda x: ea.sign(x) * x, lambda x: np.sign(x) * x,
     lambda: (_away(3, 4),)),
    ("tanh", ea.tanh, np.tanh, lambda: (_r(3, 4),)),
    ("sigmoid", ea.sigmoid, _sigmoid, lambda: (3 * _r(3, 4),)),
    ("relu", ea.relu, lambda x: np.maximum(x, 0), lambda: (_away(3, 4),)),
    ("gelu", ea.gelu, _gelu, lambda: (2 * _r(3, 4),)),
    ("softplus", ea.softplus, lambda x: np.log1p(np.exp(x)), lambda: (3 * _r(3, 4),)),
    ("sin", ea.sin, np.sin, lambda: (_r(3, 4),)),
    ("cos", ea.cos, np.cos, lambda: (_r(3, 4),)),
    ("maximum", ea.maximum, np.maximum, lambda: (_r(3, 1), _r(4, seed=1))),
    ("minimum", ea.minimum, np.minimum, lambda: (_r(3, 4), _r(3, 4, seed=1))),
    ("maximum_scalar", lambda x: ea.maximum(x, 0.1), lambda x: np.maximum(x, 0.1),
     lambda: (_away(3, 4),)),
    ("where", lambda x, y: ea.where(x > y, x, y), lambda x, y: np.where(x > y, x, y),
     lambda: (_r(3, 4), _r(4, seed=1))),
    ("where_scalar", lambda x: ea.where(x < 0, 0.0, x * x), lambda x: np.where(x < 0, 0, x * x),
     lambda: (_away(3, 4),)),
    ("clip", lambda x: ea.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
     lambda: (_away(3, 4) * 0.9,)),
    ("clip_low", lambda x: ea.clip(x, 0.1), lambda x: np.maximum(x, 0.1),
     lambda: (_away(3, 4),)),
    ("max_all", ea.max, np.max, lambda: (_r(3, 4),)),
    ("max_axis", lambda x: ea.max(x, axis=1), lambda x: np.max(x, axis=1), lambda: (_r(3, 4),)),
    ("min_neg_axes_keepdims", lambda x: ea.min(x, axis=(-1, 0), keepdims=True),
     lambda x: np.min(x, axis=(-1, 0), keepdims=True), lambda: (_r(2, 3, 4),)),
    ("max_method", lambda x: x.max(axis=-2), lambda x: x.max(axis=-2), lambda: (_r(3, 4),)),
    ("logsumexp", ea.logsumexp, _logsumexp, lambda: (_r(3, 4),)),
    ("logsumexp_axis_keepdims", lambda x: ea.logsumexp(x, axis=-1, keepdims=True),
     lambda x: _logsumexp(x, axis=-1, keepdims=True), lambda: (_r(3, 4),)),
    ("softmax", ea.softmax, _softmax, lambda: (_r(3, 4),)),
    ("softmax_axis0", lambda x: ea.softmax(x, axis=-2), lambda x: _softmax(x, axis=-2),
     lambda: (_r(3, 4),)),
    ("log_softmax", lambda x: ea.log_softmax(x, axis=0),
     lambda x: x - _logsumexp(x, axis=0, keepdims=True), lambda: (_r(3, 4),)),
    ("reshape", lambda x: ea.reshape(x, (2, -1)), lambda x: np.reshape(x, (2, -1)),
     lambda: (_r(3, 4),)),
    ("reshape_method", lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3),
     lambda: (_r(3, 4),)),
    ("broadcast_to", lambda x: ea.broadcast_to(x, (2, 3, 4)),
     lambda x: np.broadcast_to(x, (2, 3, 4)), lambda: (_r(3, 1),)),
    ("expand_dims", lambda x: ea.expand_dims(x, (0, -1)), lambda x: np.expand_dims(x, (0, -1)),
     lambda: (_r(3, 4),)),
    ("squeeze", lambda x: ea.squeeze(x, -1), lambda x: np.squeeze(x, -1),
     lambda: (_r(3, 1, 4, 1),)),
    ("concatenate", lambda x, y: ea.concatenate([x, y, x], axis=-1),
     lambda x, y: np.concatenate([x, y, x], axis=-1), lambda: (_r(3, 2), _r(3, 4))),
    ("concatenate_none", lambda x, y: ea.concatenate([x, y], axis=None),
     lambda x, y: np.concatenate([x, y], axis=None), lambda: (_r(3, 2), _r(4))),
    ("stack", lambda x, y: ea.stack([x, y], axis=-1), lambda x, y: np.stack([x, y], axis=-1),
     lambda: (_r(3, 4), _r(3, 4, seed=1))),
    ("split_sections", lambda x: ea.split(x, 2, axis=-1), lambda x: np.split(x, 2, axis=-1),
     lambda: (_r(3, 4),)),
    ("split_indices", lambda x: ea.split(x, [1, 5]), lambda x: np.split(x, [1, 5]),
     lambda: (_r(3, 4),)),
    ("index_basic", lambda x: x[1:, None, ..., ::-2], lambda x: x[1:, None, ..., ::-2],
     lambda: (_r(3, 4),)),
    ("index_int", lambda x: x[-1, 2], lambda x: x[-1, 2], lambda: (_r(3, 4),)),
    ("index_int_array", lambda x: x[IDX, 1:], lambda x: x[IDX, 1:], lambda: (_r(3, 4),)),
    ("index_mixed", lambda x: x[:, IDX, [0, 1, 1]], lambda x: x[:, IDX, [0, 1, 1]],
     lambda: (_r(2, 3, 4),)),
    ("index_mask", lambda x: x[MASK], lambda x: x[MASK], lambda: (_r(3, 4),)),
    ("index_row_mask", lambda x: x[np.array([True, False, True])],
     lambda x: x[np.array([True, False, True])], lambda: (_r(3, 4),)),
    ("take_along_axis", lambda x: ea.take_along_axis(x, np.array([[0, 0, 3]]), axis=-1),
     lambda x: np.take_along_axis(x, np.array([[0, 0, 3]]), axis=-1), lambda: (_r(3, 4),)),
    ("take_along_axis_none", lambda x: ea.take_along_axis(x, np.array([5, 5, 0]), axis=None),
     lambda x: np.take_along_axis(x, np.array([5, 5, 0]), axis=None), lambda: (_r(3, 4),)),
    ("astype_round_trip", lambda x: ea.astype(ea.astype(x, np.complex128), np.float64) * x,
     lambda x: x * x, lambda: (_r(3, 4),)),
    ("composite", lambda x, y: ea.logsumexp(ea.tanh(x) * ea.sigmoid(y[IDX]), axis=0),
     lambda x, y: _logsumexp(np.tanh(x) * _sigmoid(y[IDX]), axis=0),
     lambda: (_r(3, 4), _r(3, 4, seed=2))),
    # edge inputs: empty arrays
    ("exp_empty", ea.exp, np.exp, lambda: (_r(0, 3),)),
    ("max_empty_rows", lambda x: ea.max(x, axis=1), lambda x: np.max(x, axis=1),
     lambda: (_r(0, 3),)),
    ("logsumexp_empty_rows", lambda x: ea.logsumexp(x, axis=1), lambda x: _logsumexp(x, axis=1),
     lambda: (_r(0, 3),)),
    ("concatenate_empty", lambda x, y: ea.concatenate([x, y]), lambda x, y: np.concatenate([x, y]),
     lambda: (_r(0, 3), _r(2, 3))),
    ("index_empty", lambda x: x[np.array([], dtype=int)], lambda x: x[np.array([], dtype=int)],
     lambda: (_r(3, 4),)),
    # edge inputs: 0-d
    ("sigmoid_0d", ea.sigmoid, _sigmoid, lambda: (np.array(0.3),)),
    ("maximum_0d", ea.maximum, np.maximum, lambda: (np.array(0.3), _r(3))),
]


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


@pytest.mark.parametrize("name,f,ref,build", TABLE, ids=[row[0] for row in TABLE])
def test_values_match_numpy(name, f, ref, build):
    args = build()
    got, want = _as_list(f(*args)), _as_list(ref(*args))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, name
        assert g.dtype == w.dtype, name
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,f,ref,build", TABLE, ids=[row[0] for row in TABLE])
def test_gradients_both_modes_second_order(name, f, ref, build):
    ea.check_grads(f, build(), order=2, modes=("fwd", "rev"))


# ------------------------------------------------------------------- stable functions


BIG = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4 + 2.0, -1e4 - 3.0]])
STABLE = [
    ("sigmoid", ea.sigmoid, _sigmoid),
    ("softplus", ea.softplus, lambda x: np.logaddexp(x, 0)),
    ("logsumexp", lambda x: ea.logsumexp(x, axis=-1), lambda x: _logsumexp(x, axis=-1)),
    ("softmax", ea.softmax, _softmax),
    ("log_softmax", ea.log_softmax, lambda x: x - _logsumexp(x, axis=-1, keepdims=True)),
    ("gelu", ea.gelu, lambda x: np.where(x > 0, x, 0.0)),
]


@pytest.mark.parametrize("name,f,ref", STABLE, ids=[s[0] for s in STABLE])
def test_stable_at_1e4_values_and_gradients(name, f, ref):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings
        got = np.asarray(f(BIG))
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, ref(BIG), rtol=1e-12, atol=1e-12)
        out, fn = ea.vjp(f, BIG)
        (g,) = fn(np.ones_like(np.asarray(out)))
        _, t = ea.jvp(f, (BIG,), (np.ones_like(BIG),))
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(t))
    # finite differences with a step ~1e-5 even though |x| ~ 1e4
    ea.check_grads(f, (BIG,), order=2, modes=("fwd", "rev"), eps=1e-9)


def test_stable_gradient_values():
    np.testing.assert_allclose(ea.grad(lambda x: ea.logsumexp(x))(BIG[0]), _softmax(BIG[0]))
    np.testing.assert_allclose(ea.grad(lambda x: ea.sum(ea.softplus(x)))(BIG[0]),
                               _sigmoid(BIG[0]))
    s = _sigmoid(BIG[1])
    np.testing.assert_allclose(ea.grad(lambda x: ea.sum(ea.sigmoid(x)))(BIG[1]), s * (1 - s))
    # in the upper tail 1 - sigmoid(x) rounds to 0; the derivative must not
    e = np.exp(-40.0)
    np.testing.assert_allclose(ea.grad(ea.sigmoid)(40.0), e / (1 + e) ** 2, rtol=1e-12)
    np.testing.assert_allclose(ea.softplus(-40.0), np.log1p(e), rtol=1e-12)


def test_float32_stays_float32():
    x = _r(3, 4).astype(np.float32)
    fns = [ea.exp, ea.sigmoid, ea.softplus, ea.gelu, ea.relu, ea.tanh, ea.log_softmax,
           lambda x: ea.maximum(x, 0.5), lambda x: ea.where(x > 0, x, 0.0),
           lambda x: ea.clip(x, -1, 1), lambda x: x ** 2, lambda x: 2.0 ** x,
           lambda x: ea.logsumexp(x, axis=0), lambda x: ea.max(x, axis=0), lambda x: x[IDX],
           lambda x: ea.concatenate([x, x])]
    for f in fns:
        assert np.asarray(f(x)).dtype == np.float32
        g = ea.grad(lambda x, f=f: ea.sum(f(x)))(x)
        assert g.dtype == np.float32
        assert ea.jvp(f, (x,), (np.ones_like(x),))[1].dtype == np.float32


# --------------------------------------------------------------------- conventions


def test_max_ties_split_equally_both_modes():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.max(x, axis=1)))(x),
                                  [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    _, t = ea.jvp(lambda x: ea.min(x, axis=-1), (x,), (np.array([[5.0, 1.0, 3.0]] * 2),))
    np.testing.assert_allclose(t, [5.0, 3.0])
    _, t = ea.jvp(lambda x: ea.max(x, axis=-1), (x,), (np.array([[5.0, 1.0, 3.0]] * 2),))
    np.testing.assert_allclose(t, [2.0, 3.0])
    np.testing.assert_array_equal(ea.grad(lambda a: ea.sum(ea.maximum(a, 1.0)))(np.ones(2)),
                                  [0.5, 0.5])


def test_kinks_and_non_differentiable_give_zero():
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.relu(x)))(x), [0, 0, 1])
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(ea.abs(x)))(x), [-1, 0, 1])
    for f in (ea.sign, ea.stop_gradient, lambda x: ea.astype(x > 0, float),
              lambda x: ea.astype(ea.equal(x, 0.0), float)):
        np.testing.assert_array_equal(ea.grad(lambda x, f=f: ea.sum(f(x)))(x), 0)
        np.testing.assert_array_equal(ea.jvp(f, (x,), (np.ones(3),))[1], 0)
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(x * ea.stop_gradient(x)))(x), x)
    # nested: stop_gradient blocks every level
    d2 = ea.grad(ea.grad(lambda x: ea.sum(x * x * ea.stop_gradient(x))))(np.array(3.0))
    assert d2 == 6.0


def test_comparison_operators_on_tracers():
    seen = {}

    def f(x):
        y = x * 1.0
        seen.update(lt=y < 0, le=y <= 0, gt=y > 0, ge=y >= 0, eq=y == 0, ne=y != 0,
                    reflected=np.zeros(3) > y)  # ndarray defers to the tracer's __lt__
        assert (y == None) is False  # noqa: E711  (not an array comparison)
        return ea.sum(ea.where(y > 0, y, 0.0))

    x = np.array([-1.0, 0.0, 1.0])
    ea.grad(f)(x)
    want = dict(lt=x < 0, le=x <= 0, gt=x > 0, ge=x >= 0, eq=x == 0, ne=x != 0,
                reflected=x < 0)
    for k, v in want.items():
        np.testing.assert_array_equal(seen[k], v)
        assert np.asarray(seen[k]).dtype == bool
    assert {id(ea.vjp(lambda x: x, x)[0])}  # tracers stay hashable (sets/dicts of them)


def test_masks_never_turn_inf_into_nan():
    x = np.array([-1.0, 2.0, 3.0])
    g = np.array([np.inf, 1.0, np.inf])
    for f in (ea.relu, lambda x: ea.where(x > 0, x, 0.0), lambda x: ea.maximum(x, 0.0),
              lambda x: ea.clip(x, 0.0, 2.5)):
        (ct,) = ea.vjp(f, x)[1](g)
        assert ct[0] == 0.0 and not np.any(np.isnan(ct))
    (ct,) = ea.vjp(lambda x: ea.max(x, axis=0, keepdims=True), x)[1](np.array([np.inf]))
    np.testing.assert_array_equal(ct, [0, 0, np.inf])


def test_nan_and_inf_propagate_like_numpy():
    x = np.array([np.nan, np.inf, -np.inf, 1.0])
    with np.errstate(invalid="ignore"):
        for f, ref in [(ea.relu, lambda x: np.maximum(x, 0)), (ea.exp, np.exp),
                       (ea.sigmoid, _sigmoid), (ea.softplus, lambda x: np.logaddexp(x, 0)),
                       (lambda x: ea.maximum(x, 0.0), lambda x: np.maximum(x, 0.0)),
                       (ea.max, np.max), (ea.abs, np.abs)]:
            np.testing.assert_array_equal(f(x), ref(x))
    assert ea.logsumexp(np.array([np.inf, 1.0])) == np.inf
    assert ea.logsumexp(np.array([-np.inf, -np.inf])) == -np.inf
    np.testing.assert_array_equal(ea.softmax(np.array([-np.inf, 0.0])), [0.0, 1.0])


def test_scatter_accumulates_and_is_differentiable():
    x = np.arange(4.0)
    np.testing.assert_array_equal(ea.grad(lambda x: ea.sum(x[[0, 0, 3, 0]]))(x), [3, 0, 0, 1])
    w = np.array([1.0, 2.0, 3.0, 4.0])
    g = ea.grad(lambda x: ea.sum(ea.take_along_axis(x, np.array([1, 1, 2]), 0) * w[:3]))(x)
    np.testing.assert_array_equal(g, [0, 3, 3, 0])
    # the VJP (a scatter) differentiated again: a Hessian through indexing
    h = ea.grad(lambda x: ea.sum(ea.grad(lambda y: ea.sum(y[[1, 1]] ** 3))(x) * w))(x)
    np.testing.assert_array_equal(h, [0, 2 * 6 * 1.0 * 2, 0, 0])


def test_mask_index_and_iteration_on_tracers():
    def f(x):
        rows = list(x)  # __getitem__ with ints until IndexError
        return ea.sum(rows[1] * rows[0]) + ea.sum(x[x > 0.0])

    x = _r(3, 4)
    want = np.zeros_like(x)
    want[0], want[1] = x[1], x[0]
    np.testing.assert_allclose(ea.grad(f)(x), want + (x > 0))


def test_iterating_a_0d_tracer_raises():
    with pytest.raises(TypeError, match="0-d"):
        ea.grad(lambda x: ea.sum(list(x)[0]))(np.array(1.0))


def test_traced_float_index_is_rejected():
    with pytest.raises(IndexError, match="dtype float64"):
        ea.grad(lambda x: ea.sum(x[x]))(np.ones(3))


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ea.reshape(np.ones(6), (4, -1)), ValueError, "size 6"),
    (lambda: ea.reshape(np.ones(6), (-1, -1)), ValueError, "one unknown"),
    (lambda: ea.reshape(np.ones(6), (4,)), ValueError, r"into shape \(4,\)"),
    (lambda: ea.broadcast_to(np.ones(3), (4, 2)), ValueError, r"shape \(3,\)"),
    (lambda: ea.squeeze(np.ones((3, 1)), 0), ValueError, "size 3"),
    (lambda: ea.expand_dims(np.ones(3), 3), np.exceptions.AxisError, "axis 3"),
    (lambda: ea.concatenate([np.ones((2, 3)), np.ones((2, 4))]), ValueError, "array 1"),
    (lambda: ea.concatenate([np.ones(2), np.ones((1, 2))]), ValueError, "dimension"),
    (lambda: ea.concatenate([]), ValueError, "at least one"),
    (lambda: ea.stack([np.ones(2), np.ones(3)]), ValueError, "same shape"),
    (lambda: ea.split(np.ones(5), 2), ValueError, "equal sections"),
    (lambda: ea.max(np.ones((0, 3)), axis=0), ValueError, "zero-size"),
    (lambda: ea.max(np.ones(3), axis=1), np.exceptions.AxisError, "out of bounds"),
    (lambda: ea.softmax(np.ones(3), axis=(0, 0)), ValueError, "repeated"),
    (lambda: ea.take_along_axis(np.ones((2, 3)), np.zeros(2, int), 1), ValueError,
     "dimension"),
    (lambda: ea.take_along_axis(np.ones(3), np.zeros(1), 0), IndexError, "integers"),
    (lambda: ea.clip(np.ones(3), 0, a_min=1), TypeError, "twice"),
    (lambda: ea.grad(lambda x: ea.sum(x[np.array([True, False])]))(np.ones(3)), IndexError,
     r"boolean index of shape \(2,\)"),
    (lambda: ea.grad(lambda x: ea.sum(x[..., [True] * 3]))(np.ones((3, 2))), IndexError,
     "axes 1..1"),
    (lambda: ea.exp("x"), TypeError, "operand 0"),
])
def test_bad_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_plain_inputs_give_numpy_results():
    assert isinstance(ea.exp(0.0), np.float64)
    assert isinstance(ea.max(np.ones(3)), np.float64)
    assert isinstance(ea.split(np.ones(4), 2)[0], np.ndarray)
    assert ea.less(1, 2) and ea.astype(np.ones(2), np.int32).dtype == np.int32
