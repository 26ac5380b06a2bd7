"""Property-based: random compositions of primitives (not only einsum), differentiated.

Hypothesis draws a short program: a chain of steps, each a primitive or lowering applied to
the running value (shape (2, 3)) and possibly to the inputs ``x`` (2, 3) and ``y`` (3,).
The same program runs in einsum_ad and in PyTorch (float64): the value, the gradient, the
JVP and the Hessian-vector product (forward-over-reverse and reverse-over-reverse) must
agree. Jacobians and Hessians must agree across modes, and derivatives must match finite
differences (these two need no PyTorch). Deterministic (derandomized); a few seconds.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import einsum_ad as ea

try:
    import torch
except ImportError:  # the oracle test skips; the finite-difference one still runs
    torch = None

PROFILE = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

W = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5], [-0.8, 0.9, 0.2]])
IDX = np.array([2, 0, 0])

# name -> (einsum_ad step, torch step); each takes (h, x, y, lib) with h of shape (2, 3)
STEPS = {
    "tanh": (lambda h, x, y: ea.tanh(h), lambda h, x, y: torch.tanh(h)),
    "sin_mul": (lambda h, x, y: ea.sin(h) * x, lambda h, x, y: torch.sin(h) * x),
    "exp": (lambda h, x, y: ea.exp(0.3 * h), lambda h, x, y: torch.exp(0.3 * h)),
    "log": (lambda h, x, y: ea.log(h * h + 1.0), lambda h, x, y: torch.log(h * h + 1.0)),
    "sqrt": (lambda h, x, y: ea.sqrt(h * h + y), lambda h, x, y: torch.sqrt(h * h + y)),
    "sigmoid": (lambda h, x, y: ea.sigmoid(h) - y, lambda h, x, y: torch.sigmoid(h) - y),
    "softplus": (lambda h, x, y: ea.softplus(h * y),
                 lambda h, x, y: torch.nn.functional.softplus(h * y)),
    "gelu": (lambda h, x, y: ea.gelu(h),
             lambda h, x, y: torch.nn.functional.gelu(h, approximate="tanh")),
    "div": (lambda h, x, y: h / (y * y + 1.0), lambda h, x, y: h / (y * y + 1.0)),
    "rdiv": (lambda h, x, y: x / (h * h + 0.5), lambda h, x, y: x / (h * h + 0.5)),
    "pow3": (lambda h, x, y: h ** 3 * 0.2, lambda h, x, y: h ** 3 * 0.2),
    "powt": (lambda h, x, y: ea.power(h * h + 0.5, ea.tanh(x)),
             lambda h, x, y: torch.pow(h * h + 0.5, torch.tanh(x))),
    "matmul": (lambda h, x, y: h @ W * 0.5, lambda h, x, y: h @ torch.tensor(W) * 0.5),
    "einsum": (lambda h, x, y: ea.einsum("ij,kj,kl->il", h, x, h) * 0.3,
               lambda h, x, y: torch.einsum("ij,kj,kl->il", h, x, h) * 0.3),
    "bilinear": (lambda h, x, y: ea.einsum("ij,j,ij->i", h, y, x)[:, None] + h,
                 lambda h, x, y: torch.einsum("ij,j,ij->i", h, y, x)[:, None] + h),
    "outer": (lambda h, x, y: ea.outer(ea.sum(h, axis=1), y) * 0.5 + h,
              lambda h, x, y: torch.outer(h.sum(1), y) * 0.5 + h),
    "softmax": (lambda h, x, y: ea.softmax(h, axis=-1),
                lambda h, x, y: torch.softmax(h, -1)),
    "log_softmax0": (lambda h, x, y: ea.log_softmax(h, axis=0),
                     lambda h, x, y: torch.log_softmax(h, 0)),
    "logsumexp": (lambda h, x, y: h - ea.logsumexp(h, axis=-1, keepdims=True),
                  lambda h, x, y: h - torch.logsumexp(h, -1, keepdim=True)),
    "max": (lambda h, x, y: h * ea.max(h, axis=0, keepdims=True),
            lambda h, x, y: h * torch.amax(h, 0, keepdim=True)),
    "min": (lambda h, x, y: h + ea.min(h * x), lambda h, x, y: h + torch.amin(h * x)),
    "maximum": (lambda h, x, y: ea.maximum(h, x), lambda h, x, y: torch.maximum(h, x)),
    "where": (lambda h, x, y: ea.where(h > x, h * h, h * y),
              lambda h, x, y: torch.where(h > x, h * h, h * y)),
    "clip": (lambda h, x, y: ea.clip(h, -0.5, 0.6) + 0.1 * h,
             lambda h, x, y: torch.clamp(h, -0.5, 0.6) + 0.1 * h),
    "relu": (lambda h, x, y: ea.relu(h - 0.1) + 0.1 * h,
             lambda h, x, y: torch.relu(h - 0.1) + 0.1 * h),
    "abs": (lambda h, x, y: ea.abs(h - 0.05) * h, lambda h, x, y: torch.abs(h - 0.05) * h),
    "mean": (lambda h, x, y: h - ea.mean(h, axis=-1, keepdims=True),
             lambda h, x, y: h - torch.mean(h, -1, keepdim=True)),
    "sum_T": (lambda h, x, y: h + ea.sum(h.T * x.T, axis=1)[None, :] * 0.1,
              lambda h, x, y: h + (h.T * x.T).sum(1)[None, :] * 0.1),
    "index": (lambda h, x, y: h[:, IDX] * h + h[::-1],
              lambda h, x, y: h[:, torch.tensor(IDX)] * h + torch.flip(h, [0])),
    "concat": (lambda h, x, y: ea.concatenate([h[:, :1] * 2.0, h[:, 1:] * y[1:]], axis=1),
               lambda h, x, y: torch.cat([h[:, :1] * 2.0, h[:, 1:] * y[1:]], 1)),
    "stack": (lambda h, x, y: ea.stack([h[0], h[1] * h[0]], axis=0),
              lambda h, x, y: torch.stack([h[0], h[1] * h[0]], 0)),
    "reshape": (lambda h, x, y: ea.reshape(ea.reshape(h, (3, 2)) @ ea.reshape(h, (3, 2)).T,
                                           (-1,))[:6].reshape(2, 3) * 0.3,
                lambda h, x, y: ((h.reshape(3, 2) @ h.reshape(3, 2).T).reshape(-1)[:6]
                                 .reshape(2, 3) * 0.3)),
    "take": (lambda h, x, y: ea.take_along_axis(h, np.array([[1, 1, 0], [2, 0, 2]]), 1) * h,
             lambda h, x, y: torch.take_along_dim(
                 h, torch.tensor([[1, 1, 0], [2, 0, 2]]), 1) * h),
    "trace": (lambda h, x, y: h * ea.trace(h @ h.T) * 0.1,
              lambda h, x, y: h * torch.trace(h @ h.T) * 0.1),
    "norm": (lambda h, x, y: h / ea.linalg.norm(h, axis=1, keepdims=True),
             lambda h, x, y: h / torch.linalg.norm(h, dim=1, keepdim=True)),
    "cos_expm1": (lambda h, x, y: ea.cos(h) + ea.expm1(0.5 * h) * ea.log1p(y * y),
                  lambda h, x, y: torch.cos(h) + torch.expm1(0.5 * h) * torch.log1p(y * y)),
    "minimum": (lambda h, x, y: ea.minimum(h, 0.5 * x) + ea.square(h) * 0.1,
                lambda h, x, y: torch.minimum(h, 0.5 * x) + torch.square(h) * 0.1),
    "tensordot": (lambda h, x, y: ea.tensordot(h, W, axes=([1], [1])) * 0.5 + h,
                  lambda h, x, y: torch.tensordot(h, torch.tensor(W), dims=([1], [1])) * 0.5
                  + h),
    "diagonal": (lambda h, x, y: h + ea.diagonal(h[:, :2] @ h[:, 1:].T)[:, None] * 0.3,
                 lambda h, x, y: h + torch.diagonal(h[:, :2] @ h[:, 1:].T)[:, None] * 0.3),
    "broadcast": (lambda h, x, y: ea.sum(ea.broadcast_to(ea.expand_dims(h, 0), (2, 2, 3))
                                         * y, axis=0) * 0.5,
                  lambda h, x, y: torch.sum(h.unsqueeze(0).expand(2, 2, 3) * y, 0) * 0.5),
    "moveaxis": (lambda h, x, y: ea.moveaxis(ea.reshape(h * x, (2, 3, 1)), 0, -1)[:, 0, :].T,
                 lambda h, x, y: torch.movedim((h * x).reshape(2, 3, 1), 0, -1)[:, 0, :].T),
    "split": (lambda h, x, y: ea.concatenate(ea.split(h, [1], axis=1)[::-1], axis=1) * h,
              lambda h, x, y: torch.cat(torch.split(h, [1, 2], 1)[::-1], 1) * h),
    "astype": (lambda h, x, y: ea.astype(ea.astype(h, np.float32), np.float64) * 0
               + ea.astype(h * 3.0, np.int64) * 0.1 + h,
               lambda h, x, y: (h * 3.0).trunc().detach() * 0.1 + h),
}


@st.composite
def programs(draw):
    names = draw(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=4))
    seed = draw(st.integers(0, 2**16))
    return names, seed


def _inputs(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (2, 3))
    y = rng.uniform(0.2, 1.2, 3)
    u = rng.standard_normal((2, 3))  # cotangent weights of the final sum
    v = rng.standard_normal((2, 3))  # tangent direction
    return x, y, u, v


def _loss(names, lib, u):
    def f(x, y):
        h = x
        for name in names:
            h = STEPS[name][lib](h, x, y)
        return (ea.sum(h * u) if lib == 0 else torch.sum(h * torch.tensor(u)))
    return f


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed: the oracle is skipped")
@PROFILE
@given(programs())
def test_random_compositions_match_pytorch(program):
    names, seed = program
    x, y, u, v = _inputs(seed)
    f = _loss(names, 0, u)
    ft = _loss(names, 1, u)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.tensor(y, requires_grad=True)
    val_t = ft(xt, yt)
    gx_t, gy_t = torch.autograd.grad(val_t, (xt, yt), create_graph=True, allow_unused=True)
    gy_t = torch.zeros(3, dtype=torch.float64) if gy_t is None else gy_t
    hv_t = torch.zeros_like(xt)
    if gx_t.requires_grad:  # else the loss is linear in x
        (hv_t,) = torch.autograd.grad(torch.sum(gx_t * torch.tensor(v)), xt, allow_unused=True)
        hv_t = torch.zeros_like(xt) if hv_t is None else hv_t
    val, (gx, gy) = ea.value_and_grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(val, val_t.item(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, gx_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(gy, gy_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    _, tan = ea.jvp(f, (x, y), (v, np.zeros(3)))
    np.testing.assert_allclose(tan, np.sum(gx_t.detach().numpy() * v), rtol=1e-9, atol=1e-12)
    fx = lambda x: f(x, y)
    np.testing.assert_allclose(ea.hvp(fx, (x,), (v,))[0], hv_t.detach().numpy(), rtol=1e-8,
                               atol=1e-11)
    rev_rev = ea.grad(lambda x: ea.sum(ea.grad(fx)(x) * v))(x)
    np.testing.assert_allclose(rev_rev, hv_t.detach().numpy(), rtol=1e-8, atol=1e-11)


@settings(PROFILE, max_examples=30)
@given(programs())
def test_random_compositions_against_finite_differences(program):
    names, seed = program
    x, y, u, _ = _inputs(seed)
    f = lambda x, y: _loss(names, 0, u)(x, y)
    ea.check_grads(f, (x, y), order=2, modes=("fwd", "rev"), seed=seed)


@settings(PROFILE, max_examples=25)
@given(programs())
def test_random_compositions_jacobians_agree_across_modes(program):
    names, seed = program
    x, y, u, _ = _inputs(seed)

    def f(x, y):
        h = x
        for name in names:
            h = STEPS[name][0](h, x, y)
        return h

    for jr, jf in zip(ea.jacrev(f, argnums=(0, 1))(x, y), ea.jacfwd(f, argnums=(0, 1))(x, y)):
        np.testing.assert_allclose(jr, jf, rtol=1e-9, atol=1e-12)
    loss = lambda x: ea.sum(f(x, y) * u)
    h = ea.hessian(loss)(x)
    np.testing.assert_allclose(ea.jacrev(ea.jacrev(loss))(x), h, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ea.jacfwd(ea.jacfwd(loss))(x), h, rtol=1e-8, atol=1e-10)
