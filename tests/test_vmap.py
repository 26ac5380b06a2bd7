"""vmap: against a Python loop and jax.vmap on a table of functions and axis specs, to second
order through grad; JAX's in_axes/out_axes semantics; per-example gradients; compositions;
the batching rules' structure (one contraction per einsum); errors."""

from __future__ import annotations

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import rules
from einsum_ad.core import Primitive

try:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
except ImportError:  # the jax comparisons skip; the loop comparisons still run
    jax = jnp = None

RNG = np.random.default_rng(0)
W = RNG.standard_normal((3, 3))
V = RNG.standard_normal(3)
IDX = np.array([2, 0, 0])


def _lib(ea_fn, jnp_fn=None):
    return ea_fn, jnp_fn

# name -> (einsum_ad function of one example (2, 3), the same in jax.numpy or None)
FUNCTIONS = {
    "tanh": _lib(lambda h: ea.tanh(h), lambda h: jnp.tanh(h)),
    "matmul": _lib(lambda h: h @ W, lambda h: h @ W),
    "einsum3": _lib(lambda h: ea.einsum("ij,kj,jl->il", h, h, W),
                    lambda h: jnp.einsum("ij,kj,jl->il", h, h, W)),
    "bilinear": _lib(lambda h: ea.einsum("ij,j,ij->i", h, V, h),
                     lambda h: jnp.einsum("ij,j,ij->i", h, V, h)),
    "sum_axis0": _lib(lambda h: ea.sum(h, axis=0), lambda h: jnp.sum(h, axis=0)),
    "mean_keepdims": _lib(lambda h: ea.mean(h, axis=1, keepdims=True) * h,
                          lambda h: jnp.mean(h, axis=1, keepdims=True) * h),
    "max_keepdims": _lib(lambda h: h * ea.max(h, axis=0, keepdims=True),
                         lambda h: h * jnp.max(h, axis=0, keepdims=True)),
    "min": _lib(lambda h: ea.min(h, axis=1), lambda h: jnp.min(h, axis=1)),
    "softmax": _lib(lambda h: ea.softmax(h, axis=-1), lambda h: jax.nn.softmax(h, axis=-1)),
    "log_softmax0": _lib(lambda h: ea.log_softmax(h, axis=0),
                         lambda h: jax.nn.log_softmax(h, axis=0)),
    "logsumexp_b": _lib(lambda h: ea.logsumexp(h, axis=-1, b=np.array([1.0, 0.0, 2.0])),
                        None),
    "reshape": _lib(lambda h: h.reshape(3, 2) @ h, lambda h: h.reshape(3, 2) @ h),
    "transpose": _lib(lambda h: h.T @ h, lambda h: h.T @ h),
    "getitem": _lib(lambda h: h[:, IDX] + h[1], lambda h: h[:, IDX] + h[1]),
    "getitem_split": _lib(lambda h: h[np.array([1, 0]), :, None][:, :, 0] * h[0, 1:2],
                          lambda h: h[np.array([1, 0]), :, None][:, :, 0] * h[0, 1:2]),
    "getitem_advanced_apart": _lib(lambda h: h[None][np.array([0, 0]), :, np.array([2, 1])],
                                   lambda h: h[None][np.array([0, 0]), :, np.array([2, 1])]),
    "concatenate": _lib(lambda h: ea.concatenate([h, 2 * h, W[:1]], axis=0),
                        lambda h: jnp.concatenate([h, 2 * h, W[:1]], axis=0)),
    "stack_constant": _lib(lambda h: ea.stack([h, W[:2]], axis=1),
                           lambda h: jnp.stack([h, W[:2]], axis=1)),
    "where": _lib(lambda h: ea.where(h > 0, h, -h * h), lambda h: jnp.where(h > 0, h, -h * h)),
    "relu_sigmoid": _lib(lambda h: ea.relu(h) * ea.sigmoid(h),
                         lambda h: jax.nn.relu(h) * jax.nn.sigmoid(h)),
    "powers": _lib(lambda h: h ** 3 + ea.power(h * h + 1, ea.tanh(h)),
                   lambda h: h ** 3 + jnp.power(h * h + 1, jnp.tanh(h))),
    "divide": _lib(lambda h: V / (h * h + 1), lambda h: V / (h * h + 1)),
    "broadcast_to": _lib(lambda h: ea.broadcast_to(h[0], (4, 3)) * 1.5,
                         lambda h: jnp.broadcast_to(h[0], (4, 3)) * 1.5),
    "diagonal": _lib(lambda h: ea.einsum("ii->i", h[:, :2]), lambda h: jnp.diagonal(h[:, :2])),
    "trace": _lib(lambda h: ea.trace(h[:, :2]) * h, lambda h: jnp.trace(h[:, :2]) * h),
    "outer": _lib(lambda h: ea.outer(h[0], h[1]), lambda h: jnp.outer(h[0], h[1])),
    "clip": _lib(lambda h: ea.clip(h, -0.5, 0.5), lambda h: jnp.clip(h, -0.5, 0.5)),
    "abs_sqrt": _lib(lambda h: ea.abs(h) + ea.sqrt(h * h + 1),
                     lambda h: jnp.abs(h) + jnp.sqrt(h * h + 1)),
    "norm": _lib(lambda h: ea.linalg.norm(h), lambda h: jnp.linalg.norm(h)),
    "expand_squeeze": _lib(lambda h: ea.expand_dims(h, 0) * ea.squeeze(h[None], 0),
                           lambda h: jnp.expand_dims(h, 0) * jnp.squeeze(h[None], 0)),
    "split": _lib(lambda h: ea.split(h, 3, axis=1)[1], lambda h: jnp.split(h, 3, axis=1)[1]),
    "take_along_axis": _lib(lambda h: ea.take_along_axis(h, np.array([[0], [2]]), axis=1),
                            lambda h: jnp.take_along_axis(h, np.array([[0], [2]]), axis=1)),
    "gelu": _lib(lambda h: ea.gelu(h), lambda h: jax.nn.gelu(h, approximate=True)),
    "exp_log": _lib(lambda h: ea.log(ea.exp(h) + 1.0) - ea.log1p(ea.expm1(h * h)),
                    lambda h: jnp.log(jnp.exp(h) + 1.0) - jnp.log1p(jnp.expm1(h * h))),
    "sin_cos": _lib(lambda h: ea.sin(h) * ea.cos(V), lambda h: jnp.sin(h) * jnp.cos(V)),
    "softplus": _lib(lambda h: ea.softplus(h), lambda h: jax.nn.softplus(h)),
    "maximum": _lib(lambda h: ea.maximum(h, V) - ea.minimum(h[0], 0.2),
                    lambda h: jnp.maximum(h, V) - jnp.minimum(h[0], 0.2)),
    "astype": _lib(lambda h: ea.astype(h, np.float32).astype(np.float64) * h,
                   lambda h: h.astype(np.float32).astype(np.float64) * h),
}


def _loop(f, xs, axis=0):
    return np.stack([np.asarray(f(x)) for x in np.moveaxis(xs, axis, 0)])


def _loss(f):
    return lambda h: ea.sum(f(h) * f(h))


def _jloss(f):
    return lambda h: jnp.sum(f(h) * f(h))


X = RNG.standard_normal((4, 2, 3))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vmap_equals_a_loop_on_every_function(name):
    f, _ = FUNCTIONS[name]
    np.testing.assert_allclose(ea.vmap(f)(X), _loop(f, X), rtol=1e-12, atol=1e-12)
    # the batch on another axis, and put elsewhere in the output
    Xm = np.moveaxis(X, 0, 2)
    out = ea.vmap(f, in_axes=2, out_axes=-1)(Xm)
    np.testing.assert_allclose(out, np.moveaxis(_loop(f, X), 0, -1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vmap_of_grad_to_second_order_equals_a_loop(name):
    f, _ = FUNCTIONS[name]
    L = _loss(f)
    np.testing.assert_allclose(ea.vmap(ea.grad(L))(X), _loop(ea.grad(L), X),
                               rtol=1e-10, atol=1e-10)
    t = RNG.standard_normal((2, 3))
    hvp = lambda h: ea.grad(lambda y: ea.sum(ea.grad(L)(y) * t))(h)  # reverse over reverse
    np.testing.assert_allclose(ea.vmap(hvp)(X), _loop(hvp, X), rtol=1e-9, atol=1e-9)
    # grad of a function that calls vmap: the batched computation differentiated
    total = lambda xs: ea.sum(ea.vmap(L)(xs))
    np.testing.assert_allclose(ea.grad(total)(X), _loop(ea.grad(L), X), rtol=1e-10,
                               atol=1e-10)


# a representative subset (each kind of batching rule): jax compiles each comparison
AGAINST_JAX = ("tanh", "einsum3", "bilinear", "max_keepdims", "softmax", "log_softmax0",
               "reshape", "getitem", "getitem_advanced_apart", "concatenate", "where",
               "powers", "broadcast_to", "diagonal", "split", "astype")


@pytest.mark.skipif(jax is None, reason="jax is not installed")
@pytest.mark.parametrize("name", AGAINST_JAX)
def test_vmap_against_jax(name):
    f, jf = FUNCTIONS[name]
    t = RNG.standard_normal((2, 3))
    hvp = lambda h: ea.jvp(ea.grad(_loss(f)), (h,), (t,))[1]  # forward over reverse
    jhvp = lambda h: jax.jvp(jax.grad(_jloss(jf)), (h,), (t,))[1]
    Xm = np.moveaxis(X, 0, 1)
    theirs = jax.jit(lambda X, Xm: (jax.vmap(jf, in_axes=1)(Xm),
                                    jax.vmap(jax.grad(_jloss(jf)))(X),
                                    jax.vmap(jhvp)(X)))(X, Xm)
    ours = (ea.vmap(f, in_axes=1)(Xm), ea.vmap(ea.grad(_loss(f)))(X), ea.vmap(hvp)(X))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


# ------------------------------------------------------------------ axis semantics

A = RNG.standard_normal((4, 3))
B = RNG.standard_normal((3, 5))


def _mapped(x, ax, i):
    return x if ax is None else np.take(x, i, axis=ax)


@pytest.mark.parametrize("in_axes, out_axes, shapes", [
    (0, 0, [(4, 3), (4, 3)]),
    (1, 0, [(3, 4), (3, 4)]),
    (-1, 1, [(3, 4), (3, 4)]),
    ((0, None), 0, [(4, 3), (3,)]),
    ((None, -2), -1, [(3,), (4, 3)]),
    ([1, 0], 0, [(3, 4), (4, 3)]),
    ((0, 1), (1,), [(4, 3), (3, 4)]),
])
def test_in_axes_and_out_axes_follow_jax(in_axes, out_axes, shapes):
    f = lambda a, b: (ea.tanh(a) * b + 1.0,)
    args = [RNG.standard_normal(s) for s in shapes]
    per = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * 2
    n = next(a.shape[ax] for a, ax in zip(args, per) if ax is not None)
    rows = [np.asarray(f(*[_mapped(a, ax, i) for a, ax in zip(args, per)])[0])
            for i in range(n)]
    oax = out_axes[0] if isinstance(out_axes, tuple) else out_axes
    expected = np.stack(rows, axis=oax)
    (out,) = ea.vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    np.testing.assert_allclose(out, expected, rtol=1e-13)
    if jax is not None:
        jf = lambda a, b: (jnp.tanh(a) * b + 1.0,)
        (jout,) = jax.vmap(jf, in_axes=in_axes, out_axes=out_axes)(*args)
        np.testing.assert_allclose(out, jout, rtol=1e-12)


def test_pytree_in_axes_prefixes_kwargs_and_outputs():
    tree = {"a": A, "b": B, "c": [np.ones(3), np.arange(4.0)]}
    f = lambda t, s: {"x": ea.sum(t["a"] @ t["b"]) * s + t["c"][1], "y": t["c"][0] * 2.0}
    out = ea.vmap(f, in_axes=({"a": 0, "b": None, "c": [None, 0]}, 0),
                  out_axes={"x": 0, "y": None})(tree, np.arange(4.0))
    assert out["y"].shape == (3,)
    expected = [float(np.sum(A[i] @ B) * i + i) for i in range(4)]
    np.testing.assert_allclose(out["x"], expected, rtol=1e-13)
    # keyword arguments are mapped over their axis 0 (as in JAX)
    g = ea.vmap(lambda x, *, scale: x * scale, in_axes=0)
    np.testing.assert_allclose(g(A, scale=np.arange(4.0)), A * np.arange(4.0)[:, None])
    # an unbatched output is broadcast along the batch axis
    np.testing.assert_allclose(ea.vmap(lambda x: W, out_axes=1)(A),
                               np.broadcast_to(W[:, None], (3, 4, 3)))
    np.testing.assert_allclose(ea.vmap(lambda: 2.0, in_axes=(), axis_size=3)(),
                               [2.0, 2.0, 2.0])


def test_axis_size_zero_and_one():
    out = ea.vmap(lambda x: ea.tanh(x @ W))(np.zeros((0, 3)))
    assert out.shape == (0, 3)
    np.testing.assert_allclose(ea.vmap(lambda x: x @ W)(A[:1]), A[:1] @ W)


def test_nested_vmap_maps_two_axes():
    f = lambda a, b: ea.einsum("i,i->", a, b)
    out = ea.vmap(ea.vmap(f, in_axes=(0, None)), in_axes=(None, 1))(A, B)
    np.testing.assert_allclose(out, (A @ B).T, rtol=1e-13)
    # the same with the outer batch differentiated through
    g = ea.grad(lambda b: ea.sum(ea.vmap(ea.vmap(f, in_axes=(0, None)),
                                         in_axes=(None, 1))(A, b) ** 2))(B)
    np.testing.assert_allclose(g, 2 * A.T @ (A @ B), rtol=1e-12)


# ------------------------------------------------------------- per-example gradients


def _mlp_loss(params, x, y):
    h = ea.relu(ea.einsum("i,io->o", x, params["W0"]) + params["b0"])
    logits = ea.einsum("i,io->o", h, params["W1"]) + params["b1"]
    return -ea.sum(y * ea.log_softmax(logits))


def test_per_example_gradients_of_an_mlp():
    rng = np.random.default_rng(1)
    params = {"W0": rng.standard_normal((8, 16)) / 3, "b0": rng.standard_normal(16) / 4,
              "W1": rng.standard_normal((16, 5)) / 4, "b1": np.zeros(5)}
    x = rng.standard_normal((12, 8))
    y = np.eye(5)[rng.integers(0, 5, 12)]
    per = ea.vmap(ea.grad(_mlp_loss), in_axes=(None, 0, 0))(params, x, y)
    for k in params:
        assert per[k].shape == (12,) + params[k].shape
        loop = np.stack([ea.grad(_mlp_loss)(params, x[i], y[i])[k] for i in range(12)])
        np.testing.assert_allclose(per[k], loop, rtol=1e-12, atol=1e-14)
    if jax is not None:
        def jloss(p, x, y):
            h = jax.nn.relu(x @ p["W0"] + p["b0"])
            return -jnp.sum(y * jax.nn.log_softmax(h @ p["W1"] + p["b1"]))
        jper = jax.vmap(jax.grad(jloss), in_axes=(None, 0, 0))(params, x, y)
        for k in params:
            np.testing.assert_allclose(per[k], jper[k], rtol=1e-10, atol=1e-12)
    # their mean is the gradient of the mean loss
    mean = ea.grad(lambda p: ea.mean(ea.vmap(_mlp_loss, in_axes=(None, 0, 0))(p, x, y)))(params)
    for k in params:
        np.testing.assert_allclose(per[k].mean(axis=0), mean[k], rtol=1e-11, atol=1e-14)


def test_check_grads_through_vmap():
    f = lambda w: ea.vmap(lambda x: ea.sum(ea.tanh(x @ w) ** 2))(A)
    ea.check_grads(f, (W,), order=2, modes=("fwd", "rev"))


# ----------------------------------------------------------- jacobians built on vmap


def test_jacfwd_and_hessian_batch_their_jvps(monkeypatch):
    from einsum_ad.transforms import jacobians

    f = lambda x: ea.tanh(x @ W) * x
    x = RNG.standard_normal((2, 3))
    J = ea.jacfwd(f)(x)
    np.testing.assert_allclose(J, ea.jacrev(f)(x), rtol=1e-12, atol=1e-14)
    g = ea.make_graph(lambda x: ea.jacfwd(f)(x), x)
    # one batched JVP: its einsum nodes carry the six tangents at once (no loop of six)
    assert any(n.primitive == "einsum" and 6 in n.shape for n in g.nodes)
    assert len(g.nodes) < 30
    # the Jacobian in blocks of tangents when it is large: the same result
    monkeypatch.setattr(jacobians, "_BLOCK", 8)
    np.testing.assert_allclose(ea.jacfwd(f)(x), J, rtol=1e-13)
    H = ea.hessian(lambda x: ea.sum(f(x) ** 2))(x)
    monkeypatch.undo()
    np.testing.assert_allclose(H, ea.hessian(lambda x: ea.sum(f(x) ** 2))(x), rtol=1e-12)
    np.testing.assert_allclose(H, ea.jacrev(ea.jacrev(lambda x: ea.sum(f(x) ** 2)))(x),
                               rtol=1e-10, atol=1e-12)
    assert J.flags.writeable and H.flags.writeable


def test_vmap_of_jacfwd_and_jacfwd_of_vmap():
    f = lambda x: ea.tanh(x @ W)
    VJ = ea.vmap(ea.jacfwd(f))(A)
    np.testing.assert_allclose(VJ, np.stack([ea.jacfwd(f)(a) for a in A]), rtol=1e-12)
    J = ea.jacfwd(lambda w: ea.vmap(lambda x: ea.tanh(x @ w))(A))(W)
    np.testing.assert_allclose(J, ea.jacrev(lambda w: ea.tanh(A @ w))(W), rtol=1e-12,
                               atol=1e-14)


# ----------------------------------------------------------------- the rules' shape


def test_an_einsum_under_vmap_is_one_contraction_with_a_batch_label():
    g = ea.make_graph(ea.vmap(lambda x: W @ x, in_axes=1), B)
    assert [n.primitive for n in g.nodes] == ["einsum"]
    assert g.nodes[0].spec == "ab,bc->ca"  # the batch label joins the GEMM: no transpose
    # both operands batched: the batch label is a GEMM batch
    g = ea.make_graph(ea.vmap(lambda a, b: ea.outer(a, b) @ W), A, A)
    assert [n.primitive for n in g.nodes] == ["einsum", "einsum"]
    assert g.nodes[0].spec == "ab,ac->abc"


def test_every_primitive_of_the_table_has_a_batching_rule():
    missing = [p.name for section in rules.PRIMITIVES.values() for p in section
               if p.batch is None]
    assert missing == []
    assert set(rules.elementwise.ELEMENTWISE) <= {p for s in rules.PRIMITIVES.values()
                                                  for p in s}


def test_vmap_on_the_array_api_backend():
    xp = pytest.importorskip("array_api_strict")
    xs, w = xp.asarray(X), xp.asarray(W)
    f = lambda h: ea.sum(ea.tanh(h @ w) ** 2)
    out = ea.vmap(ea.grad(f))(xs)
    assert type(out) is type(xs)
    loop = np.stack([ea.grad(lambda h: ea.sum(ea.tanh(h @ W) ** 2))(x) for x in X])
    np.testing.assert_allclose(np.asarray(out), loop, rtol=1e-12)


# ------------------------------------------------------------------------ errors


def test_inconsistent_sizes_and_bad_axes_raise():
    with pytest.raises(ValueError, match="inconsistent sizes"):
        ea.vmap(lambda a, b: a + b)(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="inconsistent sizes"):
        ea.vmap(lambda a: a, axis_size=5)(np.ones((3, 2)))
    with pytest.raises(ValueError, match="rank should be at least 3"):
        ea.vmap(lambda a: a, in_axes=2)(np.ones((3, 2)))
    with pytest.raises(ValueError, match="rank should be at least 1"):
        ea.vmap(lambda a: a)(2.0)
    with pytest.raises(ValueError, match="in_axes has 1 entries"):
        ea.vmap(lambda a, b: a, in_axes=(0,))(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="does not match"):
        ea.vmap(lambda t: t["a"], in_axes=({"b": 0},))({"a": np.ones(2)})
    with pytest.raises(ValueError, match="axis_size"):
        ea.vmap(lambda a: a, in_axes=None)(np.ones(2))
    with pytest.raises(ValueError, match="out_axes entry is None"):
        ea.vmap(lambda a: a * 2, out_axes=None)(np.ones(2))
    with pytest.raises(ValueError, match="out of range"):
        ea.vmap(lambda a: a, out_axes=3)(np.ones((2, 2)))
    with pytest.raises(TypeError, match="in_axes must be an int"):
        ea.vmap(lambda a: a, in_axes={"a": 0})
    with pytest.raises(TypeError, match="ints or None"):
        ea.vmap(lambda a: a, in_axes=(True,))(np.ones(2))


def test_a_primitive_without_a_batching_rule_raises_naming_it():
    p = Primitive("mystery", lambda x: x)
    with pytest.raises(TypeError, match="no batching rule for primitive 'mystery'"):
        ea.vmap(lambda x: p(x))(np.ones((2, 3)))


@pytest.mark.parametrize("f, what", [
    (lambda x: x if x.sum() > 0 else -x, "truth value"),
    (lambda x: float(x[0]), "float"),
    (lambda x: x.argmax(), "argmax"),
    (lambda x: ea.where(x > 0), "nonzero"),
    (lambda x: x[x > 0], "indexing"),
    (lambda x: ea.sum(x, where=x > 0), "where"),
    (lambda x: np.asarray(x), "array"),
])
def test_reading_a_batched_value_raises_and_says_why(f, what):
    with pytest.raises(TypeError, match="vmap") as info:
        ea.vmap(f)(np.ones((2, 3)))
    assert what in str(info.value) and "ea.where" in str(info.value)


# Regression (after merging main's namespace): functions whose result is a constant read
# from the operand's value (positions, counts, truth values, a sorting permutation, a rank)
# read it with ``unwrap``, which under vmap is every example at once: ea.argmax(x) was the
# argmax of the whole batch, ea.count_nonzero(x > 0) the batch's count for each example,
# silently. They read it with ``concrete`` now, which says why it cannot be read.
VALUE_READERS = [
    (lambda x: ea.argmax(x), "argmax"),
    (lambda x: ea.argmin(x, axis=0), "argmin"),
    (lambda x: ea.count_nonzero(x > 0), "count_nonzero"),
    (lambda x: ea.any(x > 0), "any"),
    (lambda x: ea.all(x > 0), "all"),
    (lambda x: ea.argsort(x), "argsort"),
    (lambda x: ea.searchsorted(np.arange(3.0), x), "searchsorted"),
    (lambda x: ea.unique_values(x), "unique_values"),
    (lambda x: ea.linalg.matrix_rank(x), "matrix_rank"),
]


@pytest.mark.parametrize("f, what", VALUE_READERS)
def test_a_function_reading_a_batched_value_raises_instead_of_reading_the_batch(f, what):
    xs = np.array([[1.0, 0.0, 3.0], [0.0, 2.0, -1.0]])
    f(xs[0])  # eager: a value it reads
    with pytest.raises(TypeError, match="vmap") as info:
        ea.vmap(f)(xs)
    assert what in str(info.value) and "ea.where" in str(info.value)


def test_a_batched_tracer_that_escapes_raises():
    kept = []
    ea.vmap(lambda x: kept.append(x) or x)(np.ones((2, 3)))
    with pytest.raises(TypeError, match="escaped"):
        ea.exp(kept[0])
