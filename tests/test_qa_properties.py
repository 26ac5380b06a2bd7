"""QA properties of the array namespace of issue 10, composed with einsum and each other.

Hypothesis draws short programs over the new functions (inverse and hyperbolic
trigonometry, the binary functions, statistics, cumulative and manipulation functions,
sorting, ``ea.linalg``, ``ea.fft``, complex intermediates) applied to a running (3, 3)
value and two inputs, and checks, deterministically (derandomized, no database):

* against PyTorch float64 autograd: the value, the gradient in both inputs, the JVP and
  the Hessian-vector product, forward-over-reverse and reverse-over-reverse;
* on the other array backends (torch tensors, array-api-strict arrays): the same program
  through einsum_ad gives NumPy's value and gradients, with the library and dtype of the
  operands (float32 too) and, on array-api-strict's second device, its device;
* everywhere, at ties and kinks: each VJP is the transpose of its JVP
  (``<w, J t> == <J^T w, t>``), ``jacrev == jacfwd``, and the three Hessian-vector
  products agree: the conventions at non-differentiable points agree across modes.

Inputs are drawn where every step is smooth (a sort sees no ties: torch sorts stably here,
as einsum_ad does); the tie and kink table below fixes its own inputs.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import einsum_ad as ea

try:
    import torch
except ImportError:  # the oracle and the torch backend skip
    torch = None
try:
    import array_api_strict as xps
except ImportError:
    xps = None

PROFILE = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

EYE = np.eye(3)
DIAG = np.diag([0.0, 2.0, 4.0])
SHIFT = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
TAKE = np.array([2, 0, 2])


def _c(constant, h):
    """A NumPy constant as an array of ``h``'s library, dtype and device."""
    return ea.asarray(constant, dtype=h.dtype, like=h)


def _sym(h, m):
    return h + (m.matrix_transpose(h) if m is ea else h.mT)


# name -> (einsum_ad step, torch step); each takes (h, x, y) with h, x (3, 3) and y (3,)
STEPS = {
    "asinh_atan": (lambda h, x, y: ea.asinh(h) + ea.atan(h * y),
                   lambda h, x, y: torch.asinh(h) + torch.atan(h * y)),
    "sinh_cosh": (lambda h, x, y: ea.sinh(0.5 * h) * ea.cosh(0.3 * x),
                  lambda h, x, y: torch.sinh(0.5 * h) * torch.cosh(0.3 * x)),
    "tan_acos": (lambda h, x, y: ea.tan(0.3 * ea.tanh(h)) + ea.acos(0.8 * ea.tanh(x * h)),
                 lambda h, x, y: torch.tan(0.3 * torch.tanh(h))
                 + torch.acos(0.8 * torch.tanh(x * h))),
    "atanh_acosh": (lambda h, x, y: ea.atanh(0.7 * ea.tanh(h)) + ea.acosh(1.5 + h * h),
                    lambda h, x, y: torch.atanh(0.7 * torch.tanh(h)) + torch.acosh(1.5 + h * h)),
    "logs": (lambda h, x, y: ea.log2(h * h + y) - ea.log10(x * x + 1.0) * ea.reciprocal(
        h * h + 0.5),
             lambda h, x, y: torch.log2(h * h + y) - torch.log10(x * x + 1.0) * torch.reciprocal(
        h * h + 0.5)),
    "atan2_hypot": (lambda h, x, y: ea.atan2(h, x + 2.0) + ea.hypot(h, y),
                    lambda h, x, y: torch.atan2(h, x + 2.0) + torch.hypot(h, y)),
    "logaddexp": (lambda h, x, y: ea.logaddexp(h, x * 2.0),
                  lambda h, x, y: torch.logaddexp(h, x * 2.0)),
    "copysign": (lambda h, x, y: ea.copysign(ea.exp(h), x - 0.1) + h,  # never at its kink
                 lambda h, x, y: torch.copysign(torch.exp(h), x - 0.1) + h),
    "rounding": (lambda h, x, y: h * ea.floor(x * 2.0) + ea.round(h * 3.0) + h * ea.sign(x),
                 lambda h, x, y: h * torch.floor(x * 2.0) + torch.round(h * 3.0).detach()
                 + h * torch.sign(x)),
    "remainder": (lambda h, x, y: (h * 3.0) % (y + 0.5),
                  lambda h, x, y: torch.remainder(h * 3.0, y + 0.5)),
    "prod": (lambda h, x, y: h * ea.prod(h, axis=0, keepdims=True) + 0.1 * ea.prod(x * h),
             lambda h, x, y: h * torch.prod(h, 0, keepdim=True) + 0.1 * torch.prod(x * h)),
    "var_std": (lambda h, x, y: h - ea.var(h, axis=1, keepdims=True)
                + ea.std(h * x, axis=0, correction=1),
                lambda h, x, y: h - torch.var(h, 1, correction=0, keepdim=True)
                + torch.std(h * x, 0, correction=1)),
    "cumulative": (lambda h, x, y: ea.cumulative_sum(h, axis=1) * 0.5
                   + ea.cumulative_prod(x * h, axis=0),
                   lambda h, x, y: torch.cumsum(h, 1) * 0.5 + torch.cumprod(x * h, 0)),
    "diff": (lambda h, x, y: ea.concat([h[:, :1], ea.diff(h, axis=1)], axis=1)
             + ea.diff(h, n=2, axis=0, prepend=x[:1], append=y[None]),
             lambda h, x, y: torch.cat([h[:, :1], torch.diff(h, dim=1)], 1)
             + torch.diff(h, n=2, dim=0, prepend=x[:1], append=y[None])),
    "flip_roll": (lambda h, x, y: ea.flip(h, axis=0) * x + ea.roll(h, 1, axis=1),
                  lambda h, x, y: torch.flip(h, (0,)) * x + torch.roll(h, 1, 1)),
    "tile_repeat": (lambda h, x, y: ea.tile(h[:1], (3, 1)) * h
                    - ea.repeat(h[:, :1], 3, axis=1) * y,
                    lambda h, x, y: torch.tile(h[:1], (3, 1)) * h
                    - torch.repeat_interleave(h[:, :1], 3, 1) * y),
    "take": (lambda h, x, y: ea.take(h, TAKE, axis=1) * h,
             lambda h, x, y: torch.index_select(h, 1, torch.tensor(TAKE)) * h),
    "sort": (lambda h, x, y: ea.sort(h * x, axis=1) + ea.sort(h, axis=0, descending=True),
             lambda h, x, y: torch.sort(h * x, dim=1, stable=True).values
             + torch.sort(h, dim=0, descending=True, stable=True).values),
    "triangles": (lambda h, x, y: ea.tril(h) + ea.triu(h * x, k=1) * 0.5,
                  lambda h, x, y: torch.tril(h) + torch.triu(h * x, 1) * 0.5),
    "broadcast_unstack": (lambda h, x, y: ea.stack(ea.unstack(h, axis=1)[::-1], axis=1)
                          + ea.broadcast_arrays(h[:1], y)[0] * ea.broadcast_arrays(h[:1], y)[1],
                          lambda h, x, y: torch.stack(torch.unbind(h, 1)[::-1], 1)
                          + torch.broadcast_tensors(h[:1], y)[0]
                          * torch.broadcast_tensors(h[:1], y)[1]),
    "inv_det": (lambda h, x, y: ea.linalg.inv(h + 4.0 * _c(EYE, h))
                * ea.linalg.det(x + 2.0 * _c(EYE, h)),
                lambda h, x, y: torch.linalg.inv(h + 4.0 * torch.tensor(EYE))
                * torch.linalg.det(x + 2.0 * torch.tensor(EYE))),
    "slogdet_solve": (lambda h, x, y: ea.linalg.solve(x + 3.0 * _c(EYE, h), h)
                      * ea.linalg.slogdet(h + 3.0 * _c(EYE, h))[1]
                      + ea.linalg.solve(h + 4.0 * _c(EYE, h), y)[None, :],
                      lambda h, x, y: torch.linalg.solve(x + 3.0 * torch.tensor(EYE), h)
                      * torch.linalg.slogdet(h + 3.0 * torch.tensor(EYE))[1]
                      + torch.linalg.solve(h + 4.0 * torch.tensor(EYE), y)[None, :]),
    "cholesky": (lambda h, x, y: ea.linalg.cholesky(h @ ea.matrix_transpose(h) + _c(EYE, h)),
                 lambda h, x, y: torch.linalg.cholesky(h @ h.mT + torch.tensor(EYE))),
    "eigh": (lambda h, x, y: (lambda w, v: v * v * w)(*ea.linalg.eigh(_sym(h, ea) + _c(DIAG, h)))
             + h * ea.linalg.eigvalsh(_sym(h, ea))[None, :],
             lambda h, x, y: (lambda w, v: v * v * w)(
                 *torch.linalg.eigh(_sym(h, torch) + torch.tensor(DIAG)))
             + h * torch.linalg.eigvalsh(_sym(h, torch))[None, :]),
    "svd": (lambda h, x, y: (lambda u, s, vh: u @ vh * s)(
        *ea.linalg.svd(h + _c(DIAG, h), full_matrices=False)) + h * ea.linalg.svdvals(x)[None, :],
            lambda h, x, y: (lambda u, s, vh: u @ vh * s)(
        *torch.linalg.svd(h + torch.tensor(DIAG), full_matrices=False))
            + h * torch.linalg.svdvals(x)[None, :]),
    "qr": (lambda h, x, y: (lambda q, r: q * q + r)(*ea.linalg.qr(h + 3.0 * _c(EYE, h))),
           lambda h, x, y: (lambda q, r: q * q + r)(
               *torch.linalg.qr(h + 3.0 * torch.tensor(EYE)))),
    "pinv": (lambda h, x, y: h + (h[:, :2] + _c(SHIFT, h)) @ ea.linalg.pinv(
        h[:, :2] + _c(SHIFT, h)) @ x,
             lambda h, x, y: h + (h[:, :2] + torch.tensor(SHIFT)) @ torch.linalg.pinv(
        h[:, :2] + torch.tensor(SHIFT)) @ x),
    "matrix_power": (lambda h, x, y: ea.linalg.matrix_power(h * 0.5, 3)
                     + ea.linalg.matrix_power(x + 3.0 * _c(EYE, h), -2),
                     lambda h, x, y: torch.linalg.matrix_power(h * 0.5, 3)
                     + torch.linalg.matrix_power(x + 3.0 * torch.tensor(EYE), -2)),
    "norms": (lambda h, x, y: h / ea.linalg.matrix_norm(h + _c(DIAG, h), ord="nuc")
              + h * ea.linalg.matrix_norm(h + _c(DIAG, h), ord=2)
              + x / ea.linalg.vector_norm(h, ord=3, axis=1, keepdims=True),
              lambda h, x, y: h / torch.linalg.matrix_norm(h + torch.tensor(DIAG), ord="nuc")
              + h * torch.linalg.matrix_norm(h + torch.tensor(DIAG), ord=2)
              + x / torch.linalg.vector_norm(h, ord=3, dim=1, keepdim=True)),
    "cross": (lambda h, x, y: ea.linalg.cross(h, x) + ea.linalg.cross(h, y),
              lambda h, x, y: torch.linalg.cross(h, x) + torch.linalg.cross(
                  h, y.expand(3, 3))),
    "fft": (lambda h, x, y: ea.real(ea.fft.fft(h, axis=0))
            + ea.imag(ea.fft.ifft(h * x, norm="ortho")),
            lambda h, x, y: torch.real(torch.fft.fft(h, dim=0))
            + torch.imag(torch.fft.ifft(h * x, norm="ortho"))),
    "rfft": (lambda h, x, y: ea.abs(ea.fft.rfft(h, n=4))[:, :3] + ea.fft.irfft(
        ea.fft.rfft(h) * (1.0 + 0.5j), n=3),
             lambda h, x, y: torch.abs(torch.fft.rfft(h, n=4))[:, :3] + torch.fft.irfft(
        torch.fft.rfft(h) * (1.0 + 0.5j), n=3)),
    "fftn_hfft": (lambda h, x, y: ea.real(ea.fft.fftn(h * (1.0 + 0.3j), norm="forward"))
                  + ea.fft.hfft(h[:, :2] * (1.0 - 1.0j), n=3)
                  + ea.imag(ea.fft.ihfft(x * h, n=4))[:, :3],
                  lambda h, x, y: torch.real(torch.fft.fftn(h * (1.0 + 0.3j), norm="forward"))
                  + torch.fft.hfft(h[:, :2] * (1.0 - 1.0j), n=3)
                  + torch.imag(torch.fft.ihfft(x * h, n=4))[:, :3]),
    "fftshift": (lambda h, x, y: ea.fft.fftshift(h) * x + ea.fft.ifftshift(h, axes=0),
                 lambda h, x, y: torch.fft.fftshift(h) * x + torch.fft.ifftshift(h, dim=0)),
    "complex": (lambda h, x, y: ea.real(ea.conj(h + 1j * x) * (h - 2j * y))
                + ea.abs(h + 1j * (x + 0.5)),
                lambda h, x, y: torch.real(torch.conj(h + 1j * x) * (h - 2j * y))
                + torch.abs(h + 1j * (x + 0.5))),
    "einsum": (lambda h, x, y: ea.einsum("ij,kj,kl->il", h, x, h) * 0.3
               + ea.einsum("ii,ij->ij", h, x),
               lambda h, x, y: torch.einsum("ij,kj,kl->il", h, x, h) * 0.3
               + torch.einsum("ii,ij->ij", h, x)),
    "vecdot_tensordot": (lambda h, x, y: ea.vecdot(h, x)[:, None] * h
                         + ea.tensordot(h, x, axes=1) * 0.3,
                         lambda h, x, y: torch.linalg.vecdot(h, x)[:, None] * h
                         + torch.tensordot(h, x, dims=1) * 0.3),
}


@st.composite
def programs(draw):
    names = draw(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=3))
    seed = draw(st.integers(0, 2**16))
    return names, seed


def _inputs(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (3, 3))
    y = rng.uniform(0.2, 1.2, 3)
    u = rng.standard_normal((3, 3))  # the cotangent weights of the final sum
    return x, y, u, rng.standard_normal((3, 3)), rng.standard_normal(3)


def _program(names, lib):
    def f(x, y):
        h = x
        for name in names:
            h = STEPS[name][lib](h, x, y)
        return h
    return f


def _close(a, b, rtol):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed: the oracle is skipped")
@PROFILE
@given(programs())
def test_qa_new_functions_composed_match_pytorch(program):
    names, seed = program
    x, y, u, vx, vy = _inputs(seed)
    f = _program(names, 0)
    loss = lambda x, y: ea.sum(f(x, y) * u)
    ft = _program(names, 1)
    xt, yt = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    val_t = torch.sum(ft(xt, yt) * torch.tensor(u))
    gx_t, gy_t = torch.autograd.grad(val_t, (xt, yt), create_graph=True, allow_unused=True)
    gy_t = torch.zeros(3, dtype=torch.float64) if gy_t is None else gy_t
    inner = torch.sum(gx_t * torch.tensor(vx)) + torch.sum(gy_t * torch.tensor(vy))
    hx_t, hy_t = (torch.autograd.grad(inner, (xt, yt), allow_unused=True)
                  if inner.requires_grad else (None, None))
    hx_t = np.zeros((3, 3)) if hx_t is None else hx_t.detach().numpy()
    hy_t = np.zeros(3) if hy_t is None else hy_t.detach().numpy()

    val, (gx, gy) = ea.value_and_grad(loss, argnums=(0, 1))(x, y)
    _close(val, val_t.item(), 1e-10)
    _close(gx, gx_t.detach().numpy(), 1e-8)
    _close(gy, gy_t.detach().numpy(), 1e-8)
    _, tan = ea.jvp(loss, (x, y), (vx, vy))
    _close(tan, inner.item(), 1e-8)
    hx, hy = ea.hvp(loss, (x, y), (vx, vy))
    _close(hx, hx_t, 1e-7)
    _close(hy, hy_t, 1e-7)
    rev = ea.grad(lambda x, y: ea.sum(ea.grad(loss, argnums=(0, 1))(x, y)[0] * vx)
                  + ea.sum(ea.grad(loss, argnums=(0, 1))(x, y)[1] * vy), argnums=(0, 1))(x, y)
    _close(rev[0], hx_t, 1e-7)
    _close(rev[1], hy_t, 1e-7)


def _libraries():
    out = []
    if torch is not None:
        out.append(pytest.param((torch.from_numpy, lambda t: t.numpy(), None), id="torch"))
    if xps is not None:
        dev = xps.Device("device1")
        out.append(pytest.param(
            (lambda a: xps.asarray(a, device=dev),
             lambda a: np.from_dlpack(xps.asarray(a, device=xps.Device("CPU_DEVICE"))), dev),
            id="array_api_strict-device1"))
    return out


@pytest.mark.parametrize("library", _libraries())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@settings(PROFILE, max_examples=12)
@given(program=programs())
def test_qa_new_functions_composed_on_backends(library, dtype, program):
    """The same program on another library's arrays (through einsum_ad) gives NumPy's
    value and gradients, with the operands' library, dtype and device."""
    to_lib, to_np, device = library
    names, seed = program
    x, y, u, _, _ = _inputs(seed)
    x, y, u = (a.astype(dtype) for a in (x, y, u))
    f = _program(names, 0)
    loss = lambda x, y, u: ea.sum(f(x, y) * u)
    ref_val, ref_g = ea.value_and_grad(loss, argnums=(0, 1))(x, y, u)
    val, g = ea.value_and_grad(loss, argnums=(0, 1))(to_lib(x), to_lib(y), to_lib(u))
    rtol = 1e-9 if dtype == np.float64 else 2e-3
    _close(to_np(val), ref_val, rtol)
    for gi, ri, xi in zip(g, ref_g, (x, y)):
        assert type(gi) is type(to_lib(xi))
        assert str(gi.dtype).split(".")[-1] == np.dtype(dtype).name
        if device is not None:
            assert gi.device == device
        scale = max(1.0, float(np.max(np.abs(ri))))
        np.testing.assert_allclose(to_np(gi), ri, rtol=rtol, atol=rtol * scale)


TIES = np.array([[1.0, 1.0, 0.0, -1.0], [2.0, 2.0, 2.0, 0.0], [0.0, 0.0, -0.0, 3.0]])
KINKS = {  # functions at their ties and kinks (TIES holds repeated values, zeros, -0.0)
    "max_axis": lambda a: ea.max(a, axis=1),
    "max_all": ea.max,
    "min_where": lambda a: ea.min(a, axis=1, where=np.array([True, True, False, True]),
                                  initial=5.0),
    "maximum": lambda a: ea.maximum(a, ea.flip(a, axis=1)),
    "minimum_scalar": lambda a: ea.minimum(a, 1.0),
    "clip": lambda a: ea.clip(a, 0.0, 2.0),
    "abs": ea.abs,
    "relu": ea.relu,
    "sort": lambda a: ea.sort(a, axis=1),
    "sort_descending": lambda a: ea.sort(a, axis=1, descending=True),
    "sort_unstable": lambda a: ea.sort(a, axis=0, stable=False),
    "sort_flat": lambda a: ea.sort(a, axis=None),
    "vector_norm_inf": lambda a: ea.linalg.vector_norm(a, ord=np.inf, axis=1),
    "vector_norm_1": lambda a: ea.linalg.vector_norm(a, ord=1),
    "matrix_norm_inf": lambda a: ea.linalg.matrix_norm(a, ord=np.inf),
    "matrix_norm_-1": lambda a: ea.linalg.matrix_norm(a, ord=-1),
    "copysign": lambda a: ea.copysign(a, ea.flip(a)),
    "hypot": lambda a: ea.hypot(a, ea.flip(a, axis=0)),
    "logaddexp": lambda a: ea.logaddexp(a, ea.flip(a, axis=1)),
    "prod_zeros": lambda a: ea.prod(a, axis=1),
    "cumprod_zeros": lambda a: ea.cumulative_prod(a, axis=1),
    "remainder": lambda a: ea.remainder(a, 1.5),
    "power_zero_base": lambda a: ea.pow(ea.abs(a), a),
    "where_equal": lambda a: ea.where(a == 2.0, a * a, -a),
    "rounding": lambda a: ea.round(a * 1.5) * a + ea.trunc(a),
    "eigvalsh_repeated": lambda a: ea.linalg.eigvalsh(ea.einsum("ij,kj->ik", a, a)),
    "svdvals_repeated": lambda a: ea.linalg.svdvals(a[:, :3] * 0 + np.diag([2.0, 2.0, 1.0])
                                                    + a[:, :3] * 1e-3),
    "nuclear_norm": lambda a: ea.linalg.matrix_norm(a, ord="nuc"),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_qa_vjp_is_transpose_of_jvp_at_ties_and_kinks(name):
    f = KINKS[name]
    a = TIES.copy()
    rng = np.random.default_rng(sorted(KINKS).index(name))
    out, vjp_fn = ea.vjp(f, a)
    w, t = rng.standard_normal(np.shape(out)), rng.standard_normal(a.shape)
    (g,) = vjp_fn(w)
    _, jt = ea.jvp(f, (a,), (t,))
    np.testing.assert_allclose(np.sum(w * np.asarray(jt)), np.sum(g * t), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(ea.jacrev(f)(a), ea.jacfwd(f)(a), rtol=1e-10, atol=1e-12)
    loss = lambda a: ea.sum(f(a) * w)
    h_fwd_rev = ea.hvp(loss, (a,), (t,))[0]
    h_rev_rev = ea.grad(lambda a: ea.sum(ea.grad(loss)(a) * t))(a)
    np.testing.assert_allclose(h_fwd_rev, h_rev_rev, rtol=1e-9, atol=1e-11)
