"""``ea.fft``: the array API standard's FFT extension, differentiable, on every backend.

``fft``, ``ifft``, ``fftn``, ``ifftn``, ``rfft``, ``irfft``, ``rfftn``, ``irfftn``,
``hfft``, ``ihfft``, ``fftfreq``, ``rfftfreq``, ``fftshift``, ``ifftshift``, with the
standard's signatures (``x`` positional-only; ``n``/``s``, ``axis``/``axes`` and ``norm``),
which also take numpy's positional ``n, axis, norm`` and ``norm=None``.

Each transform pads with zeros or crops to the requested lengths first (slices and
concatenations: linear, differentiable), then applies one of three primitives of the rule
table (``rules/fft.py``): the complex DFT over several axes, the real-input DFT and its
real-output inverse along one axis. ``rfftn`` is ``rfft`` on the last of ``axes`` then the
complex DFT on the others; ``irfftn`` the reverse; ``hfft`` and ``ihfft`` are ``irfft``
and ``rfft`` between conjugations, with the other direction's ``norm`` (numpy's
definitions). The VJP of every transform is its transpose with the matching scaling (see
``rules/fft.py`` for why that is the same ``fft``, and why ``rfft``'s is not ``irfft``).

Real input to the complex transforms is cast to complex (integers to the default
floating type first), as numpy does; float32 stays in single precision (complex64).
"""

from __future__ import annotations

import operator

from .. import backend as _backend
from .. import rules
from ..core import unwrap
from ..rules import astype_p, concatenate_p, conj_p, fft_p, getitem_p, irfft_p, rfft_p
from ..rules.fft import NORMS, swap_norm
from ._args import _axis, _backend_of, _check_operand, _finish

_kind = _backend.kind

__all__ = ["fft", "ifft", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn", "hfft",
           "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


# ------------------------------------------------------------------------- arguments


def _norm(norm, fname):
    if norm is None:  # numpy's spelling of the default
        return "backward"
    if norm not in NORMS:
        raise ValueError(f"{fname}: norm must be one of {NORMS}, got {norm!r}")
    return norm


def _length(n, fname, what="n"):
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{fname}: {what} must be an integer, got {n!r}") from None
    if n < 1:
        raise ValueError(f"{fname}: invalid number of data points ({n}) specified; {what} "
                         "must be at least 1")
    return n


def _inexact(x, fname, complex_ok=True):
    """``x`` as a floating (or, when ``complex_ok``, complex) array: integers and bool
    become the backend's default floating type."""
    k = _kind(x.dtype)
    if k == "c" and not complex_ok:
        raise TypeError(f"{fname}: the input must be real, got dtype {x.dtype}")
    if k in "biu":
        bk = _backend_of(x)
        x = astype_p(x, dtype=bk.default_float)
    return x


def _complex(x, fname):
    x = _inexact(x, fname)
    if _kind(x.dtype) != "c":
        x = astype_p(x, dtype=_backend_of(x).complex_dtype(x.dtype))
    return x


def _real(x, fname):
    return _inexact(x, fname, complex_ok=False)


def _resize(x, axis, n):
    """``x`` cropped or zero-padded at the end to length ``n`` along ``axis``."""
    m = x.shape[axis]
    if m == n:
        return x
    if m > n:
        return getitem_p(x, index=(slice(None),) * axis + (slice(0, n), Ellipsis))
    v = unwrap(x)
    bk = _backend_of(x)
    pad = bk.zeros(tuple(n - m if i == axis else d for i, d in enumerate(x.shape)),
                   dtype=x.dtype, device=bk.device(v))
    return concatenate_p(x, pad, axis=axis)


def _axes_and_lengths(x, s, axes, fname, last_half=False):
    """The standard's ``s``/``axes`` rule: ``axes=None`` means every axis, or the last
    ``len(s)`` axes when ``s`` is given; ``s=None`` (or an entry -1) keeps an axis'
    length, except that with ``last_half`` (``irfftn``) the last axis defaults to
    ``2 (m - 1)`` for ``m`` input bins."""
    if axes is None:
        axes = tuple(range(x.ndim)) if s is None else tuple(range(x.ndim - len(s), x.ndim))
    else:
        axes = (axes,) if not isinstance(axes, (tuple, list)) else tuple(axes)
    axes = tuple(_axis(ax, x.ndim, fname, "axes") for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{fname}: repeated axis in axes {axes}")
    if s is not None:
        s = (s,) if not isinstance(s, (tuple, list)) else tuple(s)
        if len(s) != len(axes):
            raise ValueError(f"{fname}: s {tuple(s)} and axes {axes} have different lengths")
    lengths = []
    for i, ax in enumerate(axes):
        given = None if s is None or s[i] == -1 else s[i]
        if given is None:
            if last_half and i == len(axes) - 1:
                given = 2 * (x.shape[ax] - 1)
            else:
                given = x.shape[ax]
        lengths.append(_length(given, fname, "s"))
    return axes, tuple(lengths)


def _one_axis(x, n, axis, fname, default):
    ax = _axis(axis, x.ndim, fname)
    return ax, _length(default(x.shape[ax]) if n is None else n, fname)


# ------------------------------------------------------------------ complex transforms


def _c2c(x, n, axis, norm, inverse, fname):
    a = _complex(_check_operand(x, 0, fname), fname)
    if a.ndim == 0:
        raise ValueError(f"{fname}: the input must have at least one dimension")
    ax, n = _one_axis(a, n, axis, fname, lambda m: m)
    a = _resize(a, ax, n)
    return _finish(fft_p(a, axes=(ax,), inverse=inverse, norm=_norm(norm, fname)))


def fft(x, /, n=None, axis=-1, norm="backward"):
    """The one-dimensional discrete Fourier transform along ``axis``.

    Args:
        x: the input (real input is cast to complex).
        n: the transform's length: ``x`` is cropped or zero-padded to it (default: its
            length along ``axis``).
        axis: the axis to transform.
        norm: ``"backward"`` (no scaling; the inverse divides by ``n``), ``"ortho"``
            (``1/sqrt(n)`` both ways) or ``"forward"`` (divide by ``n`` here).

    Returns:
        A complex array, ``x``'s shape with ``n`` along ``axis``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.fft.fft(np.array([1.0, 0.0, 0.0, 0.0]))
        array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
    """
    return _c2c(x, n, axis, norm, False, "fft")


def ifft(x, /, n=None, axis=-1, norm="backward"):
    """The inverse of :func:`fft` (same arguments; ``"backward"`` divides by ``n``)."""
    return _c2c(x, n, axis, norm, True, "ifft")


def _c2cn(x, s, axes, norm, inverse, fname):
    a = _complex(_check_operand(x, 0, fname), fname)
    axes, lengths = _axes_and_lengths(a, s, axes, fname)
    for ax, n in zip(axes, lengths):
        a = _resize(a, ax, n)
    if not axes:
        return _finish(a)
    return _finish(fft_p(a, axes=axes, inverse=inverse, norm=_norm(norm, fname)))


def fftn(x, /, s=None, axes=None, norm="backward"):
    """The n-dimensional discrete Fourier transform over ``axes``.

    ``s`` gives the length along each of ``axes`` (crop or zero-pad; -1 keeps one);
    ``axes=None`` means every axis, or the last ``len(s)`` axes when ``s`` is given.
    ``norm`` as in :func:`fft`, for the product of the lengths.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.fft.fftn(np.ones((2, 2))).real
        array([[4., 0.],
               [0., 0.]])
    """
    return _c2cn(x, s, axes, norm, False, "fftn")


def ifftn(x, /, s=None, axes=None, norm="backward"):
    """The inverse of :func:`fftn` (same arguments)."""
    return _c2cn(x, s, axes, norm, True, "ifftn")


# --------------------------------------------------------------------- real transforms


def _r2c(a, ax, n, norm):
    return rfft_p(_resize(a, ax, n), axis=ax, norm=norm)


def _c2r(a, ax, n, norm):
    return irfft_p(_resize(a, ax, n // 2 + 1), axis=ax, n=n, norm=norm)


def rfft(x, /, n=None, axis=-1, norm="backward"):
    """The DFT of real ``x`` along ``axis``: its ``n // 2 + 1`` non-negative frequency
    bins (the others are their conjugates). ``n`` crops or zero-pads the input.

    The VJP is not :func:`irfft`: it is the transpose of the full DFT followed by keeping
    the first ``n // 2 + 1`` bins, which weights the bins that stand for a conjugate pair
    by 1/2 (``rules/fft.py``).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.fft.rfft(np.array([1.0, 2.0, 3.0, 4.0]))
        array([10.+0.j, -2.+2.j, -2.+0.j])
    """
    a = _real(_check_operand(x, 0, "rfft"), "rfft")
    ax, n = _one_axis(a, n, axis, "rfft", lambda m: m)
    return _finish(_r2c(a, ax, n, _norm(norm, "rfft")))


def irfft(x, /, n=None, axis=-1, norm="backward"):
    """The inverse of :func:`rfft`: ``n`` real values (default ``2 (m - 1)`` for ``m``
    input bins) from the non-negative bins, which are cropped or zero-padded to
    ``n // 2 + 1``. The imaginary parts of bin 0 (and of bin ``n / 2`` for even ``n``)
    are ignored.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.fft.irfft(np.array([10.0, -2 + 2j, -2.0]))
        array([1., 2., 3., 4.])
    """
    a = _complex(_check_operand(x, 0, "irfft"), "irfft")
    ax, n = _one_axis(a, n, axis, "irfft", lambda m: 2 * (m - 1))
    return _finish(_c2r(a, ax, n, _norm(norm, "irfft")))


def rfftn(x, /, s=None, axes=None, norm="backward"):
    """The n-dimensional DFT of real ``x``: :func:`rfft` over the last of ``axes``, then
    the complex DFT over the others (``s`` and ``axes`` as in :func:`fftn`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.fft.rfftn(np.ones((2, 4))).shape
        (2, 3)
    """
    a = _real(_check_operand(x, 0, "rfftn"), "rfftn")
    axes, lengths = _axes_and_lengths(a, s, axes, "rfftn")
    norm = _norm(norm, "rfftn")
    if not axes:
        return _finish(_complex(a, "rfftn"))
    for ax, n in zip(axes[:-1], lengths[:-1]):
        a = _resize(a, ax, n)
    out = _r2c(a, axes[-1], lengths[-1], norm)
    if len(axes) > 1:
        out = fft_p(out, axes=axes[:-1], inverse=False, norm=norm)
    return _finish(out)


def irfftn(x, /, s=None, axes=None, norm="backward"):
    """The inverse of :func:`rfftn`: the inverse complex DFT over all but the last of
    ``axes``, then :func:`irfft` over the last, whose length defaults to ``2 (m - 1)``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> x = np.arange(8.0).reshape(2, 4)
        >>> np.allclose(ea.fft.irfftn(ea.fft.rfftn(x), s=x.shape), x)
        True
    """
    a = _complex(_check_operand(x, 0, "irfftn"), "irfftn")
    axes, lengths = _axes_and_lengths(a, s, axes, "irfftn", last_half=True)
    norm = _norm(norm, "irfftn")
    if not axes:
        raise ValueError("irfftn: at least one axis is needed")
    for ax, n in zip(axes[:-1], lengths[:-1]):
        a = _resize(a, ax, n)
    if len(axes) > 1:
        a = fft_p(a, axes=axes[:-1], inverse=True, norm=norm)
    return _finish(_c2r(a, axes[-1], lengths[-1], norm))


def hfft(x, /, n=None, axis=-1, norm="backward"):
    """The DFT of a signal with Hermitian symmetry given by its first half ``x``: ``n``
    real values (default ``2 (m - 1)``). numpy's definition: ``irfft(conj(x))`` with the
    other direction's ``norm``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.fft.hfft(np.array([1.0, 0.0, 0.0]))
        array([1., 1., 1., 1.])
    """
    a = _complex(_check_operand(x, 0, "hfft"), "hfft")
    ax, n = _one_axis(a, n, axis, "hfft", lambda m: 2 * (m - 1))
    return _finish(_c2r(conj_p(a), ax, n, swap_norm(_norm(norm, "hfft"))))


def ihfft(x, /, n=None, axis=-1, norm="backward"):
    """The inverse of :func:`hfft`: ``conj(rfft(x))`` with the other direction's
    ``norm``, for real ``x`` (``n // 2 + 1`` bins).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.fft.ihfft(np.array([1.0, 1.0, 1.0, 1.0]))
        array([1.-0.j, 0.-0.j, 0.-0.j])
    """
    a = _real(_check_operand(x, 0, "ihfft"), "ihfft")
    ax, n = _one_axis(a, n, axis, "ihfft", lambda m: m)
    return _finish(conj_p(_r2c(a, ax, n, swap_norm(_norm(norm, "ihfft")))))


# ------------------------------------------------------------------------- frequencies


def _creation_backend(device, dtype, fname):
    """The backend an array made from nothing belongs to: the one of ``dtype`` or
    ``device`` when they are some library's (a NumPy dtype or a string: NumPy), else
    the default (NumPy)."""
    for obj in (dtype, device):
        if obj is None or isinstance(obj, str):
            continue
        top = (type(obj).__module__ or "").split(".")[0]
        if top in ("numpy", "builtins"):
            continue
        try:
            return _backend.get(top)
        except (ValueError, ImportError):
            raise TypeError(f"{fname}: {type(obj).__name__} {obj!r} belongs to no known "
                            "array library") from None
    return _backend.default()


def _frequencies(n, d, dtype, device, fname, half):
    n = _length(n, fname)
    try:
        d = float(d)
    except (TypeError, ValueError):
        raise TypeError(f"{fname}: d must be a real number, got {d!r}") from None
    bk = _creation_backend(device, dtype, fname)
    dt = bk.default_float if dtype is None else bk.dtype(dtype)
    if _kind(dt) != "f":
        raise ValueError(f"{fname}: dtype must be a real floating type, got {dtype!r}")
    idx = bk.index_dtype
    if half:
        k = bk.arange(n // 2 + 1, dtype=idx, device=device)
    else:
        k = bk.concat([bk.arange((n - 1) // 2 + 1, dtype=idx, device=device),
                       bk.arange(-(n // 2), 0, dtype=idx, device=device)], axis=0)
    f = bk.multiply(bk.astype(k, bk.float64), bk.scalar(1.0 / (n * d), bk.float64, device))
    return _finish(bk.astype(f, dt))


def fftfreq(n, /, d=1.0, *, dtype=None, device=None):
    """The sample frequencies of an ``n``-point DFT with sample spacing ``d``:
    ``[0, 1, ..., -2, -1] / (d n)`` (the negative ones from ``-(n // 2)``), in ``dtype``
    (default: the default floating type) on ``device``. Not differentiable (``n`` and
    ``d`` are plain numbers).

    Examples:
        >>> import einsum_ad as ea
        >>> ea.fft.fftfreq(4, d=0.5)
        array([ 0. ,  0.5, -1. , -0.5])
    """
    return _frequencies(n, d, dtype, device, "fftfreq", half=False)


def rfftfreq(n, /, d=1.0, *, dtype=None, device=None):
    """The ``n // 2 + 1`` non-negative sample frequencies of :func:`rfft` (the Nyquist
    frequency counted positive), as :func:`fftfreq`.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.fft.rfftfreq(4)
        array([0.  , 0.25, 0.5 ])
    """
    return _frequencies(n, d, dtype, device, "rfftfreq", half=True)


def _shifted(x, axes, fname, sign):
    a = _check_operand(x, 0, fname)
    if axes is None:
        axes = tuple(range(a.ndim))
    elif not isinstance(axes, (tuple, list)):
        axes = (axes,)
    axes = tuple(_axis(ax, a.ndim, fname, "axes") for ax in axes)
    per_axis = {}
    for ax in axes:  # an axis given twice is shifted twice, as numpy's roll does
        per_axis[ax] = per_axis.get(ax, 0) + sign * (a.shape[ax] // 2)
    order = tuple(sorted(per_axis))
    if not order:
        return _finish(a)
    amounts = tuple(per_axis[ax] % a.shape[ax] if a.shape[ax] else 0 for ax in order)
    return _finish(rules.roll_p(a, shift=amounts, axis=order))


def fftshift(x, /, axes=None):
    """Move the zero-frequency bin to the centre: a roll by ``n // 2`` along each of
    ``axes`` (None: all). Linear; its derivative is the opposite roll.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.fft.fftshift(ea.fft.fftfreq(5))
        array([-0.4, -0.2,  0. ,  0.2,  0.4])
    """
    return _shifted(x, axes, "fftshift", 1)


def ifftshift(x, /, axes=None):
    """The inverse of :func:`fftshift`: a roll by ``-(n // 2)`` along each of ``axes``."""
    return _shifted(x, axes, "ifftshift", -1)
