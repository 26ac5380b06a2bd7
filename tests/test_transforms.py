"""vjp / grad / value_and_grad / jvp on einsum nodes: named cases, pytrees, nesting, errors."""

import numpy as np
import pytest

import einsum_ad as ea

rng = np.random.default_rng(1)


def r(*shape):
    return rng.standard_normal(shape)


# ----------------------------------------------------------------- named cases


def test_matvec_dW_is_v_xT():
    W, x, v = r(4, 3), r(3), r(4)
    _, f_vjp = ea.vjp(lambda W, x: ea.einsum("ij,j->i", W, x), W, x)
    dW, dx = f_vjp(v)
    np.testing.assert_allclose(dW, np.outer(v, x), rtol=1e-14)
    np.testing.assert_allclose(dx, W.T @ v, rtol=1e-14)


NAMED = {
    "matvec": ("ij,j->i", [(4, 3), (3,)]),
    "trace": ("ii->", [(4, 4)]),
    "diagonal": ("ii->i", [(4, 4)]),
    "partial trace not trailing": ("iji->j", [(3, 2, 3)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "bilinear": ("i,ij,j->", [(3,), (3, 4), (4,)]),
    "attention scores": ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    "4-matrix chain": ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 3), (3, 2)]),
    "tensor-network ring": ("abi,bcj,cdk,dal->ijkl", [(2, 3, 2), (3, 2, 2), (2, 3, 2), (3, 2, 2)]),
    "sum inside an operand": ("ij->i", [(3, 4)]),
    "implicit": ("ij,jk", [(2, 3), (3, 4)]),
    "ellipsis broadcast": ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    "size-1 named broadcast": ("ij,jk->ik", [(2, 1), (3, 4)]),
    "scalar operand": (",ij->ij", [(), (2, 3)]),
    "size-0 dim": ("ij,jk->ik", [(2, 0), (0, 3)]),
}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_named_cases_second_order_both_modes(name):
    subscripts, shapes = NAMED[name]
    args = tuple(r(*s) for s in shapes)
    f = lambda *ops: ea.einsum(subscripts, *ops)
    ea.check_grads(f, args, order=2, modes=("rev", "fwd"))


def test_same_array_twice_accumulates():
    x = r(5)
    g = ea.grad(lambda x: ea.einsum("i,i->", x, x))(x)
    np.testing.assert_allclose(g, 2 * x)
    A = r(3, 3)
    g = ea.grad(lambda A: ea.einsum("ij,jk,ki->", A, A, A))(A)
    np.testing.assert_allclose(g, 3 * (A @ A).T, rtol=1e-12)


def test_sixty_indices_gradient():
    n = 60
    mats = [np.eye(2) + 0.05 * r(2, 2) for _ in range(n)]

    def f(*ms):
        args = []
        for i, m in enumerate(ms):
            args += [m, [i, i + 1]]
        return ea.einsum(*args, [0, n])

    ea.check_grads(f, tuple(mats[:3]) + tuple(mats[3:]), order=1)


def test_trace_gradient_is_identity_and_keeps_inf():
    A = r(3, 3)
    np.testing.assert_array_equal(ea.grad(lambda A: ea.einsum("ii", A))(A), np.eye(3))
    # writing onto the diagonal never multiplies by a mask: inf stays inf, zeros stay 0
    _, f_vjp = ea.vjp(lambda A: ea.einsum("ii->i", A), A)
    (g,) = f_vjp(np.array([np.inf, 1.0, -np.inf]))
    np.testing.assert_array_equal(g, np.diag([np.inf, 1.0, -np.inf]))
    assert not np.isnan(g).any()


def test_nan_propagates_backward():
    x = np.array([1.0, np.nan])
    g = ea.grad(lambda w: ea.einsum("i,i->", w, x))(np.ones(2))
    assert g[0] == 1.0 and np.isnan(g[1])


# ----------------------------------------------------------------- transforms


def test_argnums_tuple_and_pytrees():
    params = {"W": r(3, 2), "b": [r(3), (r(3),)]}
    x = r(2)

    def f(p, x):
        z = ea.einsum("ij,j->i", p["W"], x) + p["b"][0] * p["b"][1][0]
        return ea.einsum("i,i->", z, z)

    gp, gx = ea.grad(f, argnums=(0, 1))(params, x)
    assert set(gp) == {"W", "b"} and isinstance(gp["b"], list) and isinstance(gp["b"][1], tuple)
    z = params["W"] @ x + params["b"][0] * params["b"][1][0]
    np.testing.assert_allclose(gp["W"], 2 * np.outer(z, x))
    np.testing.assert_allclose(gx, 2 * params["W"].T @ z)
    np.testing.assert_allclose(gp["b"][0], 2 * z * params["b"][1][0])
    ea.check_grads(f, (params, x), order=2, modes=("rev", "fwd"))


def test_value_and_grad_has_aux_and_negative_argnums():
    def f(a, b):
        s = ea.einsum("i,i->", a, b)
        return s, {"s": s, "note": "aux"}

    (v, aux), g = ea.value_and_grad(f, argnums=-1, has_aux=True)(np.ones(3), np.arange(3.0))
    assert v == 3.0 and aux["note"] == "aux" and aux["s"] == 3.0
    np.testing.assert_array_equal(g, np.ones(3))
    g2, aux2 = ea.grad(f, has_aux=True)(np.ones(3), np.arange(3.0))
    np.testing.assert_array_equal(g2, np.arange(3.0))


def test_unused_argument_gets_zeros():
    g = ea.grad(lambda a, b: ea.einsum("i->", a), argnums=(0, 1))(np.ones(2), np.ones((3, 4)))
    np.testing.assert_array_equal(g[1], np.zeros((3, 4)))
    assert g[1].dtype == np.float64
    # an output that does not depend on the input at all
    out, f_vjp = ea.vjp(lambda x: np.ones(2), np.ones(3))
    np.testing.assert_array_equal(f_vjp(np.ones(2))[0], np.zeros(3))


def test_grad_of_grad_and_grad_of_vjp():
    f = lambda x: ea.einsum("i,i,i->", x, x, x)  # sum x^3
    x = r(4)
    np.testing.assert_allclose(ea.grad(lambda x: ea.einsum("i->", ea.grad(f)(x)))(x), 6 * x)
    # grad of a function that calls vjp with a cotangent depending on the outer variable
    W = r(3, 2)

    def h(v):
        _, f_vjp = ea.vjp(lambda W: ea.einsum("ij,j->i", W, np.ones(2)), W)
        (dW,) = f_vjp(v)
        return ea.einsum("ij,ij->", dW, dW)

    v = r(3)
    np.testing.assert_allclose(ea.grad(h)(v), 4 * v)  # |v 1^T|^2 = 2|v|^2
    ea.check_grads(h, (v,), order=2)


def test_third_order_of_a_chain():
    A = r(3, 3)
    f = lambda A: ea.einsum("ij,jk,kl,li->", A, A, A, A)  # tr(A^4)
    ea.check_grads(f, (A,), order=3, modes=("rev",))


def test_operators_lower_to_einsum_and_mix_with_constants():
    x, y, M = r(3), r(3), r(3, 3)

    def f(x, y):
        z = (M @ x) * y - 2.0 * x / 3 + (-y) + x ** 2 + M.T @ (x * 1.5)
        return (z @ z) + ((x @ M).T @ y)

    ea.check_grads(f, (x, y), order=2, modes=("rev", "fwd"))
    xs = ea.vjp(lambda x: x.T, r(2, 3))[0]
    assert xs.shape == (3, 2)


def test_float32_stays_float32():
    W, x = r(3, 2).astype(np.float32), r(2).astype(np.float32)

    def f(W):
        z = ea.einsum("ij,j->i", W, x) * 2.0 + 1.0
        return ea.einsum("i,i->", z, z)

    v, g = ea.value_and_grad(f)(W)
    assert np.asarray(v).dtype == np.float32 and g.dtype == np.float32
    out, f_vjp = ea.vjp(lambda W: W @ x, W)
    assert out.dtype == np.float32
    assert f_vjp(np.ones(3))[0].dtype == np.float32  # float64 cotangent is cast


def test_complex_vjp_is_the_plain_transpose():
    A = r(2, 3) + 1j * r(2, 3)
    x = r(3) + 1j * r(3)
    v = r(2) + 1j * r(2)
    _, f_vjp = ea.vjp(lambda A: ea.einsum("ij,j->i", A, x), A)
    np.testing.assert_allclose(f_vjp(v)[0], np.outer(v, x))  # no conjugation
    ea.check_grads(lambda A, x: ea.einsum("ij,j->i", A, x), (A, x), order=2, modes=("rev", "fwd"))


def test_cotangents_are_writeable_arrays():
    g = ea.grad(lambda x: ea.einsum("ij->", x))(np.ones((2, 3)))
    assert isinstance(g, np.ndarray) and g.flags.writeable
    g += 1  # a user may update it in place


def test_jvp_matches_directional_derivative():
    A, B = r(3, 4), r(4, 2)
    dA, dB = r(3, 4), r(4, 2)
    out, tan = ea.jvp(lambda A, B: ea.einsum("ij,jk->ik", A, B), (A, B), (dA, dB))
    np.testing.assert_allclose(out, A @ B)
    np.testing.assert_allclose(tan, dA @ B + A @ dB)


# ----------------------------------------------------------------- errors


def test_vjp_cotangent_errors():
    _, f_vjp = ea.vjp(lambda x: ea.einsum("i,j->ij", x, x), np.ones(3))
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(3,\) but the output has shape"):
        f_vjp(np.ones(3))
    with pytest.raises(TypeError, match="complex128"):
        f_vjp(np.ones((3, 3), dtype=complex))
    with pytest.raises(TypeError, match="str"):
        f_vjp("oops")
    with pytest.raises(ValueError, match="structure"):
        f_vjp([np.ones((3, 3))])


def test_grad_errors():
    with pytest.raises(TypeError, match=r"scalar.*shape \(3,\)"):
        ea.grad(lambda x: ea.einsum("i->i", x))(np.ones(3))
    with pytest.raises(TypeError, match="dtype int64"):
        ea.grad(lambda x: ea.einsum("i->", x))(np.arange(3))
    with pytest.raises(ValueError, match="argnums"):
        ea.grad(lambda x: ea.einsum("i->", x), argnums=2)(np.ones(3))
    with pytest.raises(TypeError, match="input 0 is str"):
        ea.grad(lambda x: x)("abc")


def test_traced_value_cannot_leak_into_numpy():
    with pytest.raises(TypeError, match="traced value"):
        ea.grad(lambda x: np.sum(np.asarray(x)))(np.ones(3))
    with pytest.raises(TypeError, match="truth value"):
        ea.grad(lambda x: x if x else x)(np.ones(()))


def test_array_methods_on_traced_values():
    x = np.arange(6.0).reshape(2, 3)

    def f(x):
        return (x.sum(axis=0).mean() + x.dot(np.ones(3)).sum() + x.transpose(1, 0).sum()
                + x.transpose().sum() + x.transpose((1, 0)).sum() + x.mT.sum())

    np.testing.assert_allclose(ea.grad(f)(x), np.full((2, 3), 1 / 3 + 5))
