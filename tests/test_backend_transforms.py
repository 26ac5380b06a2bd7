"""Every transform on every array backend (values against the same transform on NumPy
arrays), and the semantics of mixing libraries: results keep the operands' library, dtype
and device; Python scalars, lists and NumPy 0-d constants join the arrays' library; two
libraries in one call raise TypeError naming both; a NumPy cotangent or tangent is
converted, one of a third library refused."""

import numpy as np
import pytest
from _array_backends import BACKENDS, check_array, check_tree, convert

import einsum_ad as ea

rng = np.random.default_rng(7)
W0, X0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
CT, VW, VX = rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal(4)


def scalar_f(W, x):
    return ea.sum(ea.tanh(ea.einsum("ij,j->i", W, x))) + ea.sum(x * x) * 0.5


def vector_f(W, x):
    return ea.sigmoid(ea.einsum("ij,j->i", W, x)) * x[:3]


def layer_f(W, x):
    """A network layer's loss: relu, a bias, log_softmax (constants made by the rules)."""
    h = ea.relu(ea.einsum("ij,j->i", W, x) + 0.1)
    return -ea.sum(ea.log_softmax(h, axis=0) * ea.arange(3.0, dtype=h.dtype, like=h))


def tree_f(p):
    return ea.sum(ea.einsum("ij,j->i", p["W"], p["x"]) ** 2) + ea.sum(p["x"][1:] * 3.0)


TRANSFORMS = [
    ("vjp", lambda W, x, ct, vW, vx: ea.vjp(vector_f, W, x)[1](ct)),
    ("vjp-out", lambda W, x, ct, vW, vx: ea.vjp(vector_f, W, x)[0]),
    ("grad", lambda W, x, ct, vW, vx: ea.grad(scalar_f, argnums=(0, 1))(W, x)),
    ("value_and_grad", lambda W, x, ct, vW, vx: ea.value_and_grad(scalar_f, 1)(W, x)),
    ("grad-has_aux", lambda W, x, ct, vW, vx: ea.grad(
        lambda W, x: (scalar_f(W, x), {"y": vector_f(W, x)}), has_aux=True)(W, x)),
    ("grad-pytree", lambda W, x, ct, vW, vx: ea.grad(tree_f)({"W": W, "x": x})),
    ("grad-of-grad", lambda W, x, ct, vW, vx: ea.grad(
        lambda x: ea.sum(ea.grad(scalar_f, 1)(W, x) * x))(x)),
    ("jvp", lambda W, x, ct, vW, vx: ea.jvp(vector_f, (W, x), (vW, vx))),
    ("jacrev", lambda W, x, ct, vW, vx: ea.jacrev(vector_f, argnums=(0, 1))(W, x)),
    ("jacfwd", lambda W, x, ct, vW, vx: ea.jacfwd(vector_f, argnums=1)(W, x)),
    ("jacobian", lambda W, x, ct, vW, vx: ea.jacobian(vector_f)(W, x)),
    ("hessian", lambda W, x, ct, vW, vx: ea.hessian(scalar_f, argnums=1)(W, x)),
    ("hvp", lambda W, x, ct, vW, vx: ea.hvp(scalar_f, (W, x), (vW, vx))),
    # vmap and jit, alone and composed with the derivatives (vW's rows: a batch of x's)
    ("vmap", lambda W, x, ct, vW, vx: ea.vmap(vector_f, in_axes=(None, 0))(W, vW)),
    ("vmap-grad", lambda W, x, ct, vW, vx: ea.vmap(ea.grad(scalar_f, 1), (None, 0))(W, vW)),
    ("jit", lambda W, x, ct, vW, vx: ea.jit(vector_f)(W, x)),
    ("jit-grad", lambda W, x, ct, vW, vx: ea.jit(ea.grad(scalar_f, argnums=(0, 1)))(W, x)),
    ("jit-value_and_grad-layer", lambda W, x, ct, vW, vx: ea.jit(ea.value_and_grad(layer_f))(
        W, x)),
    ("jit-vmap-grad", lambda W, x, ct, vW, vx: ea.jit(ea.vmap(ea.grad(layer_f, 1), (None, 0)))(
        W, vW)),
]


@pytest.mark.parametrize("name, run", TRANSFORMS, ids=[t[0] for t in TRANSFORMS])
def test_transform_matches_numpy(backend, name, run):
    want = run(W0, X0, CT, VW, VX)
    got = run(*convert(backend, (W0, X0, CT, VW, VX)))
    check_tree(backend, got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f, args", [
    (scalar_f, (W0, X0)), (vector_f, (W0, X0)), (tree_f, ({"W": W0, "x": X0},))],
    ids=["scalar", "vector", "pytree"])
def test_check_grads(backend, f, args):
    ea.check_grads(f, convert(backend, args), order=2, modes=("fwd", "rev"))


def test_make_graph(backend):
    graph = ea.make_graph(vector_f, *convert(backend, (W0, X0)))
    want = ea.make_graph(vector_f, W0, X0)
    assert [n.primitive for n in graph.nodes] == [n.primitive for n in want.nodes]
    assert str(graph) == str(want)


# ------------------------------------------------------------------------------ semantics


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
def test_results_keep_library_dtype_and_device(backend, dtype):
    W, x = (backend.asarray(a.astype(dtype)) for a in (W0, X0))
    check_array(backend, ea.einsum("ij,j->i", W, x), dtype=dtype)
    check_array(backend, ea.exp(x) * 2.0 + 1, dtype=dtype)
    check_array(backend, ea.sum(x, keepdims=True), dtype=dtype)
    out, fn = ea.vjp(lambda W, x: ea.einsum("ij,j->i", W, x) * 3, W, x)
    check_array(backend, out, dtype=dtype)
    for c in fn(out):
        check_array(backend, c, dtype=dtype, what="cotangent")
    for t in ea.jvp(lambda x: ea.tanh(x) if dtype != "complex64" else ea.exp(x), (x,), (x,)):
        check_array(backend, t, dtype=dtype, what="jvp")
    if dtype != "complex64":
        check_array(backend, ea.grad(lambda x: ea.sum(ea.tanh(x)))(x), dtype=dtype)


def test_python_scalars_lists_and_numpy_constants_join_the_arrays(backend):
    x64, x32 = backend.asarray(X0), backend.asarray(X0.astype(np.float32))
    # Python scalars are weak: the array's dtype
    check_array(backend, x32 * 2.0 + 1, X0.astype(np.float32) * 2 + 1, rtol=1e-6)
    check_array(backend, ea.maximum(x32, 0.5), np.maximum(X0.astype(np.float32), 0.5))
    # NumPy 0-d constants (numpy scalars, 0-d arrays) and lists join the arrays' library,
    # on their device
    check_array(backend, ea.add(x64, np.float64(2.0)), X0 + 2.0)
    check_array(backend, ea.multiply(np.array(3.0), x64), X0 * 3.0)
    check_array(backend, ea.einsum("i,->i", x64, np.float64(2.0)), X0 * 2)
    check_array(backend, ea.einsum("i,i->", x64, [1.0, 2.0, 3.0, 4.0]),
                np.dot(X0, [1.0, 2.0, 3.0, 4.0]))
    check_array(backend, ea.dot(np.float64(2.0), x64), 2 * X0)
    check_array(backend, ea.where(x64 > 0, x64, np.float64(0.0)), np.where(X0 > 0, X0, 0.0))
    check_array(backend, ea.where(x64 > 0, 1.0, 0.0), np.where(X0 > 0, 1.0, 0.0))
    check_array(backend, ea.where([True, False, True, False], x64, -1.0),
                np.where([True, False, True, False], X0, -1.0))
    g = ea.grad(lambda x: ea.sum(x * np.float64(3.0) + np.array(1.0)))(x64)
    check_array(backend, g, np.full(4, 3.0))


def _other(backend):
    """A backend of another library than ``backend``'s and NumPy's, installed here."""
    for b in BACKENDS:
        if b.skip is None and b.library not in (backend.library, "numpy"):
            return b
    pytest.skip(f"no third array library installed next to {backend.library} and numpy")


def test_two_libraries_raise_type_error_naming_both(foreign):
    x, a = foreign.asarray(X0), X0  # a NumPy array of one dimension is no constant
    calls = [lambda: ea.einsum("i,i->", x, a), lambda: ea.add(a, x),
             lambda: ea.matmul(W0, x), lambda: ea.dot(x, a), lambda: ea.concatenate([x, a]),
             lambda: ea.stack([a, x]), lambda: ea.where(a > 0, x, 0.0),
             lambda: ea.grad(lambda v: ea.sum(v * a))(x)]
    for call in calls:
        with pytest.raises(TypeError) as err:
            call()
        assert foreign.library in str(err.value) and "numpy" in str(err.value), str(err.value)
    other = _other(foreign)
    y = other.asarray(X0)
    with pytest.raises(TypeError) as err:
        ea.einsum("i,i->", x, y)
    assert foreign.library in str(err.value) and other.library in str(err.value)


def test_numpy_cotangents_and_tangents_are_converted(foreign):
    W, x = foreign.asarray(W0), foreign.asarray(X0)
    out, fn = ea.vjp(vector_f, W, x)
    want = ea.vjp(vector_f, W0, X0)[1](CT)
    check_tree(foreign, fn(CT), want)  # a NumPy cotangent: converted onto W's device
    check_tree(foreign, fn(CT.astype(np.float32)), want, rtol=1e-6, atol=1e-6)
    check_tree(foreign, ea.jvp(vector_f, (W, x), (VW, VX)),
               ea.jvp(vector_f, (W0, X0), (VW, VX)))


def test_cotangent_of_a_third_library_is_refused(foreign):
    other = _other(foreign)
    out, fn = ea.vjp(vector_f, foreign.asarray(W0), foreign.asarray(X0))
    with pytest.raises(TypeError) as err:
        fn(other.asarray(CT))
    assert foreign.library in str(err.value) and other.library in str(err.value)
    with pytest.raises(TypeError) as err:
        ea.jvp(vector_f, (foreign.asarray(W0), foreign.asarray(X0)),
               (other.asarray(VW), other.asarray(VX)))
    assert foreign.library in str(err.value) and other.library in str(err.value)
