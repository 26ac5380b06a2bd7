"""``ea.fft``, the FFT extension: one table (values against ``numpy.fft``, derivatives
against finite differences in both modes to second order, on real and complex inputs, on
every backend), the transposes written out (``rfft``'s VJP is not ``irfft``), the
frequency helpers' ``dtype``/``device``, JAX's VJPs where JAX is installed, and errors."""

import warnings

import numpy as np
import pytest
from _strict_backends import BACKENDS, _np, _on, array_api_strict  # noqa: F401

import einsum_ad as ea
from einsum_ad import backend as B

NORMS = ["backward", "ortho", "forward"]


def _r(*shape, seed=0):
    return np.random.default_rng(seed + 3 * sum(shape)).standard_normal(shape)


def _c(*shape, seed=0):
    return _r(*shape, seed=seed) + 1j * _r(*shape, seed=seed + 1)


# name, function (ea.fft or numpy.fft namespace -> function), argument builder
TABLE = [
    ("fft", lambda f: lambda x: f.fft(x), lambda: (_c(2, 5),)),
    ("fft_real_input", lambda f: lambda x: f.fft(x, axis=0), lambda: (_r(4, 3),)),
    ("fft_pad", lambda f: lambda x: f.fft(x, n=7), lambda: (_c(5),)),
    ("fft_crop_ortho", lambda f: lambda x: f.fft(x, n=3, norm="ortho"), lambda: (_c(2, 5),)),
    ("ifft_forward", lambda f: lambda x: f.ifft(x, axis=0, norm="forward"),
     lambda: (_c(4, 2),)),
    ("ifft", lambda f: lambda x: f.ifft(x), lambda: (_c(6),)),
    ("fftn", lambda f: lambda x: f.fftn(x), lambda: (_c(3, 4),)),
    ("fftn_s_axes", lambda f: lambda x: f.fftn(x, s=(2, 5), axes=(1, 0), norm="ortho"),
     lambda: (_c(3, 4),)),
    ("ifftn_axes", lambda f: lambda x: f.ifftn(x, axes=(0, 2)), lambda: (_c(2, 3, 2),)),
    ("rfft_even", lambda f: lambda x: f.rfft(x), lambda: (_r(2, 6),)),
    ("rfft_odd_axis0", lambda f: lambda x: f.rfft(x, axis=0), lambda: (_r(5, 2),)),
    ("rfft_pad_ortho", lambda f: lambda x: f.rfft(x, n=8, norm="ortho"), lambda: (_r(5),)),
    ("rfft_crop_forward", lambda f: lambda x: f.rfft(x, n=3, norm="forward"),
     lambda: (_r(6),)),
    ("irfft_even", lambda f: lambda x: f.irfft(x), lambda: (_c(2, 4),)),
    ("irfft_odd", lambda f: lambda x: f.irfft(x, n=7), lambda: (_c(4),)),
    ("irfft_pad_ortho", lambda f: lambda x: f.irfft(x, n=10, norm="ortho"),
     lambda: (_c(3, 2).T,)),
    ("irfft_crop_forward", lambda f: lambda x: f.irfft(x, n=4, axis=0, norm="forward"),
     lambda: (_c(5, 2),)),
    ("irfft_real_input", lambda f: lambda x: f.irfft(x, n=5), lambda: (_r(3),)),
    ("rfftn", lambda f: lambda x: f.rfftn(x), lambda: (_r(3, 4),)),
    ("rfftn_s_axes", lambda f: lambda x: f.rfftn(x, s=(4, 3), axes=(1, 0), norm="ortho"),
     lambda: (_r(2, 5),)),
    ("irfftn", lambda f: lambda x: f.irfftn(x), lambda: (_c(3, 3),)),
    ("irfftn_s", lambda f: lambda x: f.irfftn(x, s=(2, 5), axes=(0, 1), norm="forward"),
     lambda: (_c(3, 4),)),
    ("hfft", lambda f: lambda x: f.hfft(x), lambda: (_c(2, 4),)),
    ("hfft_odd_ortho", lambda f: lambda x: f.hfft(x, n=5, norm="ortho"), lambda: (_c(3),)),
    ("ihfft", lambda f: lambda x: f.ihfft(x), lambda: (_r(2, 6),)),
    ("ihfft_forward", lambda f: lambda x: f.ihfft(x, n=5, axis=0, norm="forward"),
     lambda: (_r(4, 2),)),
    ("fftshift", lambda f: lambda x: f.fftshift(x), lambda: (_r(3, 4),)),
    ("ifftshift_axes", lambda f: lambda x: f.ifftshift(x, axes=(1,)), lambda: (_c(2, 5),)),
    ("round_trip", lambda f: lambda x: f.irfft(f.rfft(x) * f.rfft(x), n=6),
     lambda: (_r(6),)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,build", TABLE, ids=[row[0] for row in TABLE])
def test_values_match_numpy(name, make, build, backend):
    args = build()
    got = _np(make(ea.fft)(*[_on(backend, a) for a in args]))
    want = make(np.fft)(*args)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,make,build", TABLE, ids=[row[0] for row in TABLE])
def test_gradients_both_modes_second_order(name, make, build, backend):
    args = tuple(_on(backend, a) for a in build())
    ea.check_grads(make(ea.fft), args, order=2, modes=("fwd", "rev"))


# ----------------------------------------------------------------------- transposes


@pytest.mark.parametrize("n", [6, 7])
@pytest.mark.parametrize("norm", NORMS)
def test_rfft_vjp_is_the_transpose_not_irfft(n, norm):
    """rfft = (keep the first n//2+1 bins) o (full DFT): its transpose zero-pads and takes
    the real part of the DFT; the doubled bins make it differ from n * irfft."""
    x, g = _r(n), _c(n // 2 + 1)
    (got,) = ea.vjp(lambda x: ea.fft.rfft(x, norm=norm), x)[1](g)
    want = np.real(np.fft.fft(np.concatenate([g, np.zeros(n - len(g))]), norm=norm))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    scale = {"backward": n, "ortho": 1.0, "forward": 1.0 / n}[norm]
    assert not np.allclose(got, np.fft.irfft(np.conj(g), n, norm=norm) * scale)


@pytest.mark.parametrize("norm", NORMS)
def test_fft_vjp_is_the_same_transform(norm):
    """The DFT matrix is symmetric: without conjugation its transpose is itself."""
    x, g = _c(5), _c(5, seed=4)
    (got,) = ea.vjp(lambda x: ea.fft.fft(x, norm=norm), x)[1](g)
    np.testing.assert_allclose(got, np.fft.fft(g, norm=norm), rtol=1e-12, atol=1e-12)
    (got,) = ea.vjp(lambda x: ea.fft.ifft(x, norm=norm), x)[1](g)
    np.testing.assert_allclose(got, np.fft.ifft(g, norm=norm), rtol=1e-12, atol=1e-12)


def test_irfft_vjp_against_the_dense_real_linear_map():
    """irfft is real-linear in (Re X, Im X): y = A_r Re X + A_i Im X. The library's
    cotangent of a complex input is A_r^T u - i A_i^T u."""
    n, m = 6, 4
    eye = np.eye(m)
    a_r = np.stack([np.fft.irfft(e, n) for e in eye], axis=1)
    a_i = np.stack([np.fft.irfft(1j * e, n) for e in eye], axis=1)
    u = _r(n)
    (got,) = ea.vjp(lambda X: ea.fft.irfft(X, n=n), _c(m))[1](u)
    np.testing.assert_allclose(got, a_r.T @ u - 1j * (a_i.T @ u), rtol=1e-12, atol=1e-12)


def test_vjps_match_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    try:
        cases = [("fft", _c(5), {}), ("ifft", _c(4), {"norm": "ortho"}),
                 ("rfft", _r(6), {}), ("rfft", _r(7), {"norm": "forward"}),
                 ("irfft", _c(4), {"n": 6}), ("irfft", _c(4), {"n": 7, "norm": "ortho"}),
                 ("hfft", _c(4), {}), ("ihfft", _r(5), {}), ("rfftn", _r(3, 4), {}),
                 ("irfftn", _c(3, 3), {"s": (3, 4)}), ("fftn", _c(2, 3), {"norm": "ortho"})]
        for name, x, kw in cases:
            out, f_jax = jax.vjp(lambda x, name=name, kw=kw: getattr(jnp.fft, name)(x, **kw), x)
            shape = np.shape(out)
            g = _c(*shape, seed=9) if np.iscomplexobj(out) else _r(*shape, seed=9)
            (want,) = f_jax(g)
            (got,) = ea.vjp(lambda x, name=name, kw=kw: getattr(ea.fft, name)(x, **kw), x)[1](g)
            np.testing.assert_allclose(got, np.asarray(want), rtol=1e-10, atol=1e-12,
                                       err_msg=name)
    finally:
        jax.config.update("jax_enable_x64", previous)


# ------------------------------------------------------------------ dtypes, devices


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_stays_single_precision(backend):
    x = _on(backend, _r(2, 6).astype(np.float32))
    for f, dt in [(ea.fft.rfft, np.complex64), (ea.fft.fft, np.complex64),
                  (lambda x: ea.fft.irfft(ea.fft.rfft(x)), np.float32),
                  (lambda x: ea.fft.hfft(ea.fft.ihfft(x)), np.float32),
                  (lambda x: ea.fft.fftshift(x), np.float32)]:
        assert _np(f(x)).dtype == dt
        (g,) = ea.vjp(f, x)[1](f(x))
        assert _np(g).dtype == np.float32
        assert _np(ea.jvp(f, (x,), (x,))[1]).dtype == dt


def test_integer_input_is_read_as_float64():
    assert ea.fft.fft(np.arange(4)).dtype == np.complex128
    assert ea.fft.rfft(np.arange(4)).dtype == np.complex128
    np.testing.assert_allclose(ea.fft.rfft(np.arange(4)), np.fft.rfft(np.arange(4)))


@pytest.mark.parametrize("n", [1, 4, 7])
def test_frequencies_match_numpy(n):
    np.testing.assert_array_equal(ea.fft.fftfreq(n, 0.1), np.fft.fftfreq(n, 0.1))
    np.testing.assert_array_equal(ea.fft.rfftfreq(n, d=2.0), np.fft.rfftfreq(n, d=2.0))
    assert ea.fft.fftfreq(n, dtype=np.float32).dtype == np.float32


@pytest.mark.skipif(array_api_strict is None, reason="array-api-strict is not installed")
def test_frequencies_on_another_backend():
    xp = array_api_strict
    f = ea.fft.fftfreq(5, dtype=xp.float32)
    assert B.of(f).name == "array_api_strict" and f.dtype == xp.float32
    dev = xp.asarray(1.0).device
    f = ea.fft.rfftfreq(6, device=dev)
    assert f.device == dev and f.dtype == xp.float64
    np.testing.assert_array_equal(_np(f), np.fft.rfftfreq(6))


def test_shifts_invert_each_other_and_transpose():
    x = _r(5, 4)
    np.testing.assert_array_equal(ea.fft.ifftshift(ea.fft.fftshift(x)), x)
    w = _r(5, 4, seed=2)
    g = ea.grad(lambda x: ea.sum(ea.fft.fftshift(x, axes=0) * w))(x)
    np.testing.assert_array_equal(g, np.fft.ifftshift(w, axes=0))


def test_numpy_positional_calls():
    x = _c(6)
    np.testing.assert_allclose(ea.fft.fft(x, 4, -1, None), np.fft.fft(x, 4, -1, None))
    np.testing.assert_allclose(ea.fft.fftn(x, (8,), (0,)), np.fft.fftn(x, (8,), (0,)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ea.fft.fftn(_c(2, 3), s=(2, 2))  # the standard: the last len(s) axes, no warning


@pytest.mark.parametrize("call,exc,match", [
    (lambda: ea.fft.fft(_c(3), norm="none"), ValueError, "norm"),
    (lambda: ea.fft.fft(_c(3), n=0), ValueError, "at least 1"),
    (lambda: ea.fft.fft(_c(3), n=2.5), TypeError, "integer"),
    (lambda: ea.fft.fft(np.array(1.0 + 0j)), ValueError, "one dimension"),
    (lambda: ea.fft.rfft(_c(3)), TypeError, "real"),
    (lambda: ea.fft.ihfft(_c(3)), TypeError, "real"),
    (lambda: ea.fft.irfft(_c(1)), ValueError, r"\(0\)"),
    (lambda: ea.fft.fftn(_c(2, 2), s=(2,), axes=(0, 1)), ValueError, "different lengths"),
    (lambda: ea.fft.fftn(_c(2, 2), axes=(0, 0)), ValueError, "repeated"),
    (lambda: ea.fft.fft(_c(3), axis=1), np.exceptions.AxisError, "axis"),
    (lambda: ea.fft.fftfreq(0), ValueError, "at least 1"),
    (lambda: ea.fft.fftfreq(4, dtype=np.int64), ValueError, "floating"),
    (lambda: ea.fft.fftfreq(4, d="x"), TypeError, "real number"),
])
def test_bad_input_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
