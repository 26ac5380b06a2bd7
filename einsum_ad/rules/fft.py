"""The rule table, FFT section: the complex DFT and the real-input / real-output pair.

Part of the one rule table (``rules/__init__.py`` lists every primitive). Three
primitives carry every transform of ``ea.fft`` (the namespace pads or crops to the
requested lengths first, with slices and concatenations, and writes ``hfft``/``ihfft`` as
``irfft``/``rfft`` between conjugations, as numpy defines them):

* ``fft`` (complex to complex over ``axes``, forward or inverse). The DFT matrix is
  symmetric (``F[j, k] = w**(j k)``), so with the library's convention (the VJP is the
  plain transpose, no conjugation) the VJP of every ``fft``/``ifft`` is the same
  transform with the same ``norm``: the scale is one number.
* ``rfft`` (real to the ``m = n // 2 + 1`` non-negative bins along one axis) is the full
  DFT followed by dropping the negative bins. Its transpose zero-pads the cotangent and
  keeps the real part of the DFT: ``Re(sum_k g[k] w**(j k))``, which is ``hfft`` of
  ``g`` with the bins that stand for two (``0 < k < n/2``) weighted by 1/2. Not ``irfft``.
* ``irfft`` (the ``m`` bins to ``n`` real values) reads bin ``k`` and its conjugate
  mirror ``n - k``; as a real-linear map of the real and imaginary parts its transpose
  is ``c * conj(rfft(u))`` with ``c = 2`` on those doubled bins and 1 on bin 0 (and
  ``n / 2`` for even ``n``), scaled like ``irfft``: ``rfft`` with the swapped ``norm``.

Each rule is written with these primitives, ``conj`` and products, so it differentiates
again to any order. Batching (for vmap): each transforms along its axes and is
independent across the others: batch by shifting the axes.
"""

from __future__ import annotations

from .. import backend as _backend
from ..core import Primitive, unwrap
from .einsum import mul
from .linear import conj_p

__all__ = ["fft_p", "rfft_p", "irfft_p", "swap_norm", "NORMS"]

_of = _backend.of

NORMS = ("backward", "ortho", "forward")

# the inverse direction's scaling: backward (1 forward, 1/n inverse) <-> forward
_SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def swap_norm(norm: str) -> str:
    """The ``norm`` that scales the other direction as ``norm`` scales this one."""
    return _SWAP[norm]


def _bin_weights(n, axis, like, doubled):
    """Along ``axis`` (other axes 1), for the ``n // 2 + 1`` bins of a length-``n``
    real transform: ``doubled`` on the bins that stand for a conjugate pair (``0 < k <
    n/2``) and 1 on bin 0 and, for even ``n``, bin ``n/2``; real, in ``like``'s
    precision, on its device."""
    v = unwrap(like)
    bk = _of(v)
    dt = bk.real_dtype(like.dtype)
    dev = bk.device(v)
    m = n // 2 + 1
    pairs = m - 1 - (1 if n % 2 == 0 else 0)
    one = bk.ones((1,), dtype=dt, device=dev)
    parts = [one, bk.full((pairs,), doubled, dtype=dt, device=dev)]
    if n % 2 == 0 and n > 0:
        parts.append(one)
    w = bk.concat(parts, axis=0)
    return bk.reshape(w, tuple(m if i == axis else 1 for i in range(len(like.shape))))


# ``axes``: a tuple of distinct non-negative axes; ``inverse``: bool; ``norm``: one of NORMS.
fft_p = Primitive("fft", lambda x, *, axes, inverse, norm: _of(x).fft_c2c(x, axes, inverse,
                                                                           norm))
# batch: shift axes
fft_p.def_vjp(lambda ans, x, **params: lambda g: (fft_p(g, **params),))
fft_p.def_jvp(lambda p, t, params: (fft_p(p[0], **params), fft_p(t[0], **params)))

# ``x`` real, of length n along ``axis``; the result has n // 2 + 1 complex bins there.
rfft_p = Primitive("rfft", lambda x, *, axis, norm: _of(x).fft_r2c(x, axis, norm))
# batch: shift axis

# ``x`` complex with n // 2 + 1 bins along ``axis``; the result is real of length ``n``.
irfft_p = Primitive("irfft", lambda x, *, axis, n, norm: _of(x).fft_c2r(x, axis, n, norm))
# batch: shift axis


@rfft_p.def_vjp
def _rfft_vjp(ans, x, *, axis, norm):
    n = x.shape[axis]

    def vjp(g):
        half = mul(g, _bin_weights(n, axis, g, 0.5))
        return (irfft_p(conj_p(half), axis=axis, n=n, norm=swap_norm(norm)),)

    return vjp


rfft_p.def_jvp(lambda p, t, params: (rfft_p(p[0], **params), rfft_p(t[0], **params)))


@irfft_p.def_vjp
def _irfft_vjp(ans, x, *, axis, n, norm):
    def vjp(u):
        spectrum = conj_p(rfft_p(u, axis=axis, norm=swap_norm(norm)))
        return (mul(spectrum, _bin_weights(n, axis, u, 2.0)),)

    return vjp


irfft_p.def_jvp(lambda p, t, params: (irfft_p(p[0], **params), irfft_p(t[0], **params)))
