"""QA regressions: elementwise functions, checked against JAX (float64) where it is
installed, and against finite differences."""

import numpy as np
import pytest

import einsum_ad as ea

try:
    import torch
except ImportError:  # the torch rows skip
    torch = None


@pytest.mark.parametrize("exponent", [1j, 0.5 - 2j, np.complex128(2 + 1j)],
                         ids=["1j", "0.5-2j", "numpy"])
@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_qa_power_of_real_base_with_complex_exponent(exponent, lib):
    """``x ** e`` with a real ``x`` and a complex constant ``e`` is complex; its derivative
    ``e x**(e-1)`` made the constant ``e`` in ``x``'s real dtype (``const(e, x)``): the VJP
    and the JVP raised TypeError inside NumPy ("float() argument must be ... not
    'complex'") and RuntimeError inside torch. The constant now takes the power's dtype."""
    if lib == "torch" and torch is None:
        pytest.skip("PyTorch is not installed")
    xv = np.array([0.5, 1.5, 3.0])
    x = torch.tensor(xv) if lib == "torch" else xv
    e = complex(exponent)
    d = e * xv ** (e - 1)
    w = np.array([1.0 + 2.0j, -0.5j, 2.0])
    out, vjp_fn = ea.vjp(lambda x: ea.pow(x, exponent), x)
    (g,) = vjp_fn(torch.tensor(w) if lib == "torch" else w)
    np.testing.assert_allclose(np.asarray(out), xv ** e, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(g), np.real(w * d), rtol=1e-13)
    assert g.dtype == x.dtype
    _, t = ea.jvp(lambda x: ea.pow(x, exponent), (x,), (x * 0 + 1,))
    np.testing.assert_allclose(np.asarray(t), d, rtol=1e-13)
    hv = ea.hvp(lambda x: ea.sum(ea.real(ea.pow(x, exponent))), (xv,), (np.ones(3),))[0]
    np.testing.assert_allclose(hv, np.real(e * (e - 1) * xv ** (e - 2)), rtol=1e-12)
