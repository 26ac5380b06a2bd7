"""``ea.fft`` on every array backend of ``_array_backends.BACKENDS``: ``test_fft.TABLE``
(values against ``numpy.fft``, derivatives against finite differences to second order in
both modes, real and complex inputs, every ``norm``), single precision, and the frequency
helpers made on the backend's device. A slow backend runs a subset of the rows."""

import numpy as np
import pytest
from _array_backends import check_array, convert, table_params
from test_fft import TABLE, _r

import einsum_ad as ea


@pytest.mark.parametrize("b, name, make, build", table_params(TABLE))
def test_fft_values(b, name, make, build):
    args = build()
    check_array(b, make(ea.fft)(*convert(b, args)), make(np.fft)(*args), what=name)


@pytest.mark.parametrize("b, name, make, build", table_params(TABLE))
def test_fft_gradients(b, name, make, build):
    ea.check_grads(make(ea.fft), convert(b, build()), order=2, modes=("fwd", "rev"))


SINGLE = [
    ("rfft", ea.fft.rfft, np.complex64),
    ("fft", ea.fft.fft, np.complex64),
    ("irfft_rfft", lambda x: ea.fft.irfft(ea.fft.rfft(x)), np.float32),
    ("hfft_ihfft", lambda x: ea.fft.hfft(ea.fft.ihfft(x)), np.float32),
    ("fftn_axes", lambda x: ea.fft.fftn(x, axes=(0, 1), norm="ortho"), np.complex64),
    ("fftshift", ea.fft.fftshift, np.float32),
]


@pytest.mark.parametrize("b, name, f, dtype", table_params(SINGLE, every=2))
def test_fft_single_precision(b, name, f, dtype):
    x = _r(2, 6)
    x32 = b.asarray(x.astype(np.float32))
    out = f(x32)
    check_array(b, out, f(x).astype(dtype), rtol=1e-5, atol=1e-5, what=name)
    (g,) = ea.vjp(f, x32)[1](out)
    check_array(b, g, dtype=np.float32, what=f"vjp {name}")
    check_array(b, ea.jvp(f, (x32,), (x32,))[1], dtype=dtype, what=f"jvp {name}")


@pytest.mark.parametrize("b, name, f, want", table_params([
    ("fftfreq", lambda d: ea.fft.fftfreq(5, 0.5, device=d), np.fft.fftfreq(5, 0.5)),
    ("rfftfreq", lambda d: ea.fft.rfftfreq(6, d=2.0, device=d), np.fft.rfftfreq(6, d=2.0)),
], every=1, on=lambda b, row: b.library == "numpy" or b.device is not None))
def test_frequencies_on_the_device(b, name, f, want):
    out = f(b.device)
    host = check_array(b, out, what=name)
    np.testing.assert_allclose(host, want, rtol=1e-6, err_msg=name)
