"""jacrev / jacfwd / jacobian / hessian / hvp: closed forms, finite differences, structure."""

from __future__ import annotations

import numpy as np
import pytest

import einsum_ad as ea

RNG = np.random.default_rng(0)


def _fd_jacobian(f, x, eps=1e-6):
    """Central differences, shape out.shape + x.shape."""
    out = np.asarray(f(x))
    J = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        J[(...,) + idx] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * eps)
    return J


def _mlp_loss(params, x, y):
    h = ea.tanh(ea.einsum("bi,hi->bh", x, params["W1"]) + params["b1"])
    out = ea.einsum("bh,oh->bo", h, params["W2"])
    return ea.mean((out - y) * (out - y))


# ------------------------------------------------------------------------ closed forms


def test_hessian_of_quadratic_form_is_exactly_a_plus_a_transpose():
    A = RNG.standard_normal((5, 5))
    x = RNG.standard_normal(5)
    H = ea.hessian(lambda x: ea.einsum("i,ij,j->", x, A, x))(x)
    np.testing.assert_array_equal(H, A + A.T)
    H = ea.hessian(lambda x: x @ A @ x)(x)
    np.testing.assert_allclose(H, A + A.T, rtol=1e-12, atol=1e-15)


def test_jacobian_of_matrix_vector_product_wrt_matrix():
    W, x = RNG.standard_normal((3, 4)), RNG.standard_normal(4)
    want = np.einsum("ik,l->ikl", np.eye(3), x)  # d(Wx)_i / dW_kl = delta_ik x_l
    for jac in (ea.jacobian, ea.jacrev, ea.jacfwd):
        np.testing.assert_array_equal(jac(lambda W: W @ x)(W), want)
        Jw, Jx = jac(lambda W, x: W @ x, argnums=(0, 1))(W, x)
        np.testing.assert_array_equal(Jw, want)
        np.testing.assert_array_equal(Jx, W)


def test_jacobian_is_jacrev():
    assert ea.jacobian is ea.jacrev


@pytest.mark.parametrize("jac", [ea.jacrev, ea.jacfwd], ids=["rev", "fwd"])
def test_jacobian_against_finite_differences(jac):
    A = RNG.standard_normal((2, 3, 4))
    f = lambda x: ea.tanh(ea.einsum("abc,bc->ab", A, x * x))
    x = RNG.standard_normal((3, 4))
    J = jac(f)(x)
    assert J.shape == (2, 3, 3, 4)
    np.testing.assert_allclose(J, _fd_jacobian(f, x), rtol=1e-6, atol=1e-8)


def test_jacrev_equals_jacfwd_scalar_and_empty():
    f = lambda x: ea.sum(ea.exp(x))
    x = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(ea.jacrev(f)(x), ea.jacfwd(f)(x), rtol=1e-14)
    assert ea.jacrev(f)(x).shape == (2, 3)
    empty = np.ones((0, 3))
    for jac in (ea.jacrev, ea.jacfwd):
        assert jac(lambda x: x * 2.0)(empty).shape == (0, 3, 0, 3)
        assert jac(lambda x: ea.sum(x, axis=0))(empty).shape == (3, 0, 3)


def test_hessian_against_finite_differences_of_the_gradient():
    B = RNG.standard_normal((3, 3))
    f = lambda x: ea.sum(ea.tanh(B @ x) * x)
    x = RNG.standard_normal(3)
    H = ea.hessian(f)(x)
    assert H.shape == (3, 3)
    np.testing.assert_allclose(H, _fd_jacobian(ea.grad(f), x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H, H.T, rtol=1e-12, atol=1e-14)


def test_hessian_shapes_tuple_argnums_and_vector_output():
    A = RNG.standard_normal((3, 2))
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    H = ea.hessian(lambda x, y: ea.einsum("i,ij,j->", x, A, y), argnums=(0, 1))(x, y)
    assert [[h.shape for h in row] for row in H] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    np.testing.assert_array_equal(H[0][1], A)
    np.testing.assert_array_equal(H[1][0], A.T)
    np.testing.assert_array_equal(H[0][0], np.zeros((3, 3)))
    # a vector-valued f: out.shape + in.shape + in.shape; f_k = x_k^3 -> H[k,k,k] = 6 x_k
    Hv = ea.hessian(lambda x: x * x * x)(x)
    assert Hv.shape == (3, 3, 3)
    want = np.zeros((3, 3, 3))
    want[np.arange(3), np.arange(3), np.arange(3)] = 6 * x
    np.testing.assert_allclose(Hv, want, rtol=1e-14)


def test_hessian_and_jvp_of_a_two_layer_mlp_loss():
    params = {"W1": RNG.standard_normal((4, 3)), "b1": RNG.standard_normal(4),
              "W2": RNG.standard_normal((2, 4))}
    x, y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    loss_w1 = lambda W1: _mlp_loss(dict(params, W1=W1), x, y)
    H = ea.hessian(loss_w1)(params["W1"])
    assert H.shape == (4, 3, 4, 3)
    fd = _fd_jacobian(ea.grad(loss_w1), params["W1"])
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H.reshape(12, 12), H.reshape(12, 12).T, atol=1e-13)
    # jvp of the loss along a direction equals the gradient's inner product with it
    v = {k: RNG.standard_normal(p.shape) for k, p in params.items()}
    out, t = ea.jvp(lambda p: _mlp_loss(p, x, y), (params,), (v,))
    g = ea.grad(_mlp_loss)(params, x, y)
    np.testing.assert_allclose(t, sum(np.sum(g[k] * v[k]) for k in params), rtol=1e-12)
    # hvp over the whole pytree equals the Hessian applied to the direction (for W1 only)
    v1 = {k: (v["W1"] if k == "W1" else np.zeros_like(p)) for k, p in params.items()}
    (hv,) = ea.hvp(lambda p: _mlp_loss(p, x, y), (params,), (v1,))
    assert set(hv) == set(params)
    np.testing.assert_allclose(hv["W1"], np.einsum("abcd,cd->ab", H, v["W1"]), rtol=1e-10,
                               atol=1e-12)


# --------------------------------------------------------------------------------- hvp


def test_hvp_equals_hessian_times_vector():
    A = RNG.standard_normal((4, 4))
    f = lambda x: ea.einsum("i,ij,j->", ea.tanh(x), A, x)
    x, v = RNG.standard_normal(4), RNG.standard_normal(4)
    (hv,) = ea.hvp(f, (x,), (v,))
    np.testing.assert_allclose(hv, ea.hessian(f)(x) @ v, rtol=1e-12, atol=1e-14)


def test_hvp_two_arguments_is_structured_like_the_primals():
    A = RNG.standard_normal((3, 2))
    f = lambda x, y: ea.einsum("i,ij,j->", x, A, y * y)
    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    vx, vy = RNG.standard_normal(3), RNG.standard_normal(2)
    out = ea.hvp(f, [x, y], [vx, vy])
    assert isinstance(out, list) and [o.shape for o in out] == [(3,), (2,)]
    H = ea.hessian(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(out[0], H[0][0] @ vx + H[0][1] @ vy, rtol=1e-12)
    np.testing.assert_allclose(out[1], H[1][0] @ vx + H[1][1] @ vy, rtol=1e-12)


def test_hvp_errors():
    with pytest.raises(TypeError, match="tuples"):
        ea.hvp(lambda x: ea.sum(x), np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match="no primals"):
        ea.hvp(lambda: 0.0, (), ())
    with pytest.raises(TypeError, match="scalar"):
        ea.hvp(lambda x: x, (np.ones(2),), (np.ones(2),))


# ----------------------------------------------------------------- nesting and errors


def test_jacobian_inside_another_transform_stays_traced():
    # d/dx sum(J(x)) for f(x) = x * x: J = diag(2x), so the gradient is 2 everywhere
    g = ea.grad(lambda x: ea.sum(ea.jacrev(lambda z: z * z)(x)))(np.arange(3.0))
    np.testing.assert_allclose(g, 2 * np.ones(3))
    g = ea.grad(lambda x: ea.sum(ea.jacfwd(lambda z: z * z * z)(x)))(np.arange(3.0))
    np.testing.assert_allclose(g, 6 * np.arange(3.0))


def test_jacobian_errors():
    with pytest.raises(TypeError, match="single array"):
        ea.jacrev(lambda x: (x, x))(np.ones(2))
    with pytest.raises(TypeError, match="single array"):
        ea.jacfwd(lambda x: [x])(np.ones(2))
    with pytest.raises(TypeError, match="argument 0 is a dict"):
        ea.jacrev(lambda p: p["a"])({"a": np.ones(2)})
    with pytest.raises(ValueError, match="out of range"):
        ea.jacfwd(lambda x: x, argnums=1)(np.ones(2))
    with pytest.raises(TypeError, match="floating"):
        ea.hessian(lambda x: ea.sum(x))(np.arange(3))


def test_check_grads_of_the_transforms_themselves():
    # the Jacobian functions are differentiable again (third derivatives via check_grads)
    A = RNG.standard_normal((2, 3))
    ea.check_grads(lambda x: ea.jacrev(lambda z: ea.tanh(A @ z))(x), (RNG.standard_normal(3),),
                   order=1, modes=("rev", "fwd"))
    ea.check_grads(lambda x, v: ea.hvp(lambda z: ea.sum(ea.exp(z) * z), (x,), (v,))[0],
                   (RNG.standard_normal(3), RNG.standard_normal(3)), order=1,
                   modes=("rev", "fwd"))


def test_regression_fit_rejects_cotangents_that_are_no_broadcast():
    # The backward pass sums a broadcast cotangent back to its operand's shape. It used to
    # accept any shape: a rule slicing the wrong axis (concatenate's VJP with axis=-1
    # read as axis 0) gave (1, 2) cotangents for (3, 1) operands, silently summed into a
    # wrong gradient (jacfwd inside grad came out 3x too large). Now it raises.
    from einsum_ad import rules
    from einsum_ad.core import Primitive

    bad = Primitive("bad_rule", lambda x: x)
    bad.def_vjp(lambda ans, x: lambda g: (ea.einsum("ab->ba", g),))
    with pytest.raises(ValueError, match=r"cotangent of shape \(3, 2\) for an operand of "
                                         r"shape \(2, 3\)"):
        ea.vjp(bad, np.ones((2, 3)))[1](np.ones((2, 3)))
    # true broadcasts still sum back: leading axes and size-1 axes
    assert rules.unbroadcast(np.ones((4, 2, 3)), (1, 3)).shape == (1, 3)


def test_composed_jacobians_equal_hessian():
    # with traced stacking, the literal compositions agree with hessian's assembly
    A = RNG.standard_normal((3, 3))
    f = lambda x: ea.sum(ea.tanh(A @ x) * x)
    x = RNG.standard_normal(3)
    H = ea.hessian(f)(x)
    np.testing.assert_allclose(ea.jacfwd(ea.jacrev(f))(x), H, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ea.jacrev(ea.jacrev(f))(x), H, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ea.jacfwd(ea.grad(f))(x), H, rtol=1e-12, atol=1e-14)
