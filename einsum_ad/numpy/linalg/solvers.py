"""Inverses, solves and determinants: inv, solve, det, slogdet, pinv, lstsq, matrix_power,
matrix_rank.

``inv``, ``solve``, ``det``, ``slogdet`` and ``pinv`` are primitives of ``rules/linalg.py``;
``matrix_power`` is a chain of matrix products (einsum nodes, after one ``inv`` for a
negative power); ``lstsq`` is ``pinv`` and one product; ``matrix_rank`` is a count of
singular values, an integer: a constant under differentiation.
"""

from __future__ import annotations

import numbers
import operator

from ... import backend as _backend
from ...core import Tracer, unwrap
from ...rules import (
    astype_p,
    broadcast_to_p,
    conj_p,
    det_p,
    einsum_str,
    hermitian_part,
    inv_p,
    pinv_p,
    reshape_p,
    slogdet_layout,
    slogdet_p,
    solve_p,
    sub_p,
    svdvals_p,
    unpack,
)
from .._args import _NOVALUE, _backend_of, _broadcast, _check_operand, _finish
from ._common import LinAlgError, SlogdetResult, finish_all, matrices, matrix_pair

__all__ = ["inv", "solve", "det", "slogdet", "pinv", "lstsq", "matrix_power", "matrix_rank"]

_kind = _backend.kind


def inv(a):
    """The inverse of each square matrix of a stack.

    Args:
        a: (..., M, M) invertible matrices.

    Returns:
        (..., M, M) inverses.

    Raises:
        LinAlgError: ``a`` is not square, or (NumPy) exactly singular.

    Derivative: ``dX = -X dA X``; the VJP ``-X^T g X^T`` is made of einsum nodes of the
    inverse node itself, so it differentiates again.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    return _finish(inv_p(matrices(a, "inv", square=True, what="a")))


def solve(a, b):
    """The solution ``X`` of ``a X = b`` for each square matrix of a stack.

    Args:
        a: (..., M, M) invertible matrices.
        b: (M,) (one right-hand side for every matrix: the result is (..., M)), or
            (..., M, K) (batch axes broadcast against ``a``'s), as the standard (2024.12)
            and numpy 2 say.

    Returns:
        ``X`` in the promoted dtype of ``a`` and ``b``.

    Derivative: ``dX = solve(a, db - da X)``; the VJP solves with ``a^T`` (the solve node
    again): ``b_bar = solve(a^T, g)``, ``a_bar = -b_bar X^T``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.solve(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, 1.0]))
        array([0.5 , 0.25])
    """
    a = matrices(a, "solve", square=True, what="a")
    b = _check_operand(b, 1, "solve")
    a, b = matrix_pair(a, b, "solve")
    m = a.shape[-1]
    batch_a = tuple(a.shape[:-2])
    if b.ndim == 1:
        if b.shape[0] != m:
            raise ValueError(f"solve: b of shape {tuple(b.shape)} does not match a of shape "
                             f"{tuple(a.shape)} ({b.shape[0]} != {m})")
        col = reshape_p(b, shape=(m, 1))
        if batch_a:
            col = broadcast_to_p(col, shape=batch_a + (m, 1))
        return _finish(reshape_p(solve_p(a, col), shape=batch_a + (m,)))
    if b.ndim == 0 or b.shape[-2] != m:
        raise ValueError(f"solve: b of shape {tuple(b.shape)} does not match a of shape "
                         f"{tuple(a.shape)}: b must be (M,) or (..., M, K) with M = {m}")
    batch = _broadcast("solve", batch_a, tuple(b.shape[:-2]))
    if batch_a != batch:
        a = broadcast_to_p(a, shape=batch + (m, m))
    if tuple(b.shape[:-2]) != batch:
        b = broadcast_to_p(b, shape=batch + tuple(b.shape[-2:]))
    return _finish(solve_p(a, b))


def det(a):
    """The determinant of each square matrix of a stack.

    Args:
        a: (..., M, M) matrices.

    Returns:
        (...) determinants, ``a``'s dtype.

    Derivative: ``tr(adj(a) da)``; the gradient is the transposed adjugate, computed from
    an SVD without dividing by the determinant, so it is exact at singular matrices too
    (the cofactor matrix; zero below rank M-1). Its second derivative is exact there as
    well (the ``adjugate`` primitive's rule, with products of singular values). The price:
    the gradient costs one SVD (the standard has no LU), about 10-20 times ``det(a) *
    inv(a)`` on large matrices; for a log-determinant use :func:`slogdet`, whose gradient
    costs one inverse.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> round(float(ea.linalg.det(np.array([[1.0, 2.0], [3.0, 4.0]]))), 12)
        -2.0
        >>> ea.grad(ea.linalg.det)(np.array([[1.0, 2.0], [2.0, 4.0]]))  # singular
        array([[ 4., -2.],
               [-2.,  1.]])
    """
    return _finish(det_p(matrices(a, "det", square=True, what="a")))


def slogdet(a):
    """The sign and the natural log of the magnitude of each determinant.

    Args:
        a: (..., M, M) matrices.

    Returns:
        ``SlogdetResult(sign, logabsdet)``: the sign in ``a``'s dtype (``det / |det|``,
        of modulus 1 for complex ``a``; 0 for a singular matrix), ``logabsdet`` real
        (``-inf`` for a singular matrix).

    Derivative: with ``T = tr(a^-1 da)``, ``d logabsdet = Re T`` and ``d sign = sign i Im
    T`` (0 for real ``a``); the VJP reads the inverse node, exact for any invertible
    ``a`` (repeated eigenvalues included).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> sign, logdet = ea.linalg.slogdet(np.array([[-2.0, 0.0], [0.0, 1.5]]))
        >>> float(sign), round(float(logdet), 6)
        (-1.0, 1.098612)
    """
    a = matrices(a, "slogdet", square=True, what="a")
    sign, logabsdet = unpack(slogdet_p(a), slogdet_layout(a.shape))
    return SlogdetResult(*finish_all((sign, logabsdet)))


def _cutoff(value, x, fname, what):
    """A tolerance (a Python number or an array broadcasting against the batch axes) as a
    plain array of ``x``'s library, in its real dtype (traced values are read: a cutoff is
    not differentiated)."""
    bk = _backend_of(x)
    real = bk.real_dtype(x.dtype)
    v = unwrap(value)
    if isinstance(v, bool) or not (isinstance(v, numbers.Real) or _backend.of(v) is not None):
        raise TypeError(f"{fname}: {what} must be a real number or an array, got "
                        f"{type(value).__name__}")
    if isinstance(v, numbers.Real) and _backend.of(v) is None:
        return float(v)
    v = _backend.to_array(v, 0, fname, what, bk)
    return bk.astype(v, real)


def _default_rtol(x):
    bk = _backend_of(x)
    return max(x.shape[-2:]) * float(bk.finfo(bk.real_dtype(x.dtype)).eps)


def pinv(a, rcond=None, hermitian=False, *, rtol=_NOVALUE):
    """The Moore-Penrose pseudo-inverse of each matrix of a stack.

    Singular values at most ``rtol`` times the largest are taken as zero.

    Args:
        a: (..., M, N) matrices.
        rcond: numpy's name for the cutoff ratio (a number or an array broadcasting
            against the batch axes).
        hermitian: ``a`` is Hermitian: its lower triangle is read (as numpy's eigh path).
        rtol: the standard's name for it. Without either, the standard's default
            ``max(M, N) * eps`` (NumPy 2 still defaults to ``1e-15`` when neither is
            given: the two differ only for singular values between the two cutoffs).

    Returns:
        (..., N, M) pseudo-inverses.

    Derivative: where no singular value crosses the cutoff, ``dP = -P dA P + P H(P) H(dA)
    (I - A P) + (I - P A) H(dA) H(P) P`` (Golub and Pereyra), with the pinv node itself:
    exact at repeated singular values. A cutoff above the default may discard singular
    values that are not zero: the derivative then adds the terms of the truncation (from
    one SVD), so it is the derivative of the function computed (JAX's treats the
    discarded values as zero). Singular values below the default cutoff are rounding and
    count as zero. Undefined where a singular value crosses the cutoff (a jump).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.pinv(np.array([[2.0, 0.0], [0.0, 0.0]]))
        array([[0.5, 0. ],
               [0. , 0. ]])
    """
    a = matrices(a, "pinv", what="a")
    if rcond is not None and rtol is not _NOVALUE:
        raise ValueError("pinv: `rtol` and `rcond` can't be both set")
    cut = rcond if rcond is not None else (None if rtol is _NOVALUE else rtol)
    cut = _default_rtol(a) if cut is None else _cutoff(cut, a, "pinv", "rtol")
    if hermitian:
        if a.shape[-1] != a.shape[-2]:
            raise LinAlgError(f"pinv: hermitian=True needs square matrices, got shape "
                              f"{tuple(a.shape)}")
        a = hermitian_part(a, lower=True)
    return _finish(pinv_p(a, rtol=cut, noise=_default_rtol(a)))


def _rank(s, tol, bk):
    """The number of entries of ``s`` (..., K) above ``tol`` (...,): an integer array."""
    if _backend.of(tol) is None:  # a Python number
        tol = bk.scalar(tol, s.dtype, bk.device(s))
    above = bk.greater(s, tol[..., None] if len(tol.shape) else tol)
    return bk.sum(bk.astype(above, bk.default_int), axis=-1)


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """The number of singular values above a tolerance, for each matrix of a stack.

    Args:
        A: (..., M, N) matrices (numpy's rule for fewer axes: 1 unless all zero).
        tol: an absolute threshold (numpy's; a number or an array for the batch).
        hermitian: ``A`` is Hermitian (its lower triangle is read).
        rtol: a threshold relative to the largest singular value (the standard's);
            default ``max(M, N) * eps``. Only one of ``tol`` and ``rtol`` may be given.

    Returns:
        (...) ranks in the default integer dtype: a constant (derivative zero), computed
        from the values (a lazy backend computes them here).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> int(ea.linalg.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]])))
        1
    """
    x = _check_operand(A, 0, "matrix_rank")
    bk = _backend_of(x)
    v = unwrap(x)
    if v.ndim < 2:
        nonzero = bk.any(bk.not_equal(v, bk.const(0, v)))
        return _finish(bk.astype(nonzero, bk.default_int))
    if tol is not None and rtol is not None:
        raise ValueError("matrix_rank: `tol` and `rtol` can't be both set")
    v = unwrap(matrices(v, "matrix_rank", what="A"))
    if hermitian:
        if v.shape[-1] != v.shape[-2]:
            raise LinAlgError(f"matrix_rank: hermitian=True needs square matrices, got "
                              f"shape {tuple(v.shape)}")
        v = hermitian_part(v, lower=True)
    s = bk.linalg_svdvals(v)
    if s.shape[-1] == 0:
        return _finish(bk.zeros(tuple(s.shape[:-1]), dtype=bk.default_int))
    if tol is not None:
        threshold = _cutoff(tol, v, "matrix_rank", "tol")
    else:
        r = _default_rtol(v) if rtol is None else _cutoff(rtol, v, "matrix_rank", "rtol")
        threshold = bk.multiply(bk.max(s, axis=-1), r)
    return _finish(_rank(s, threshold, bk))


def lstsq(a, b, rcond=None):
    """The least-squares solution of ``a x = b``, with numpy's signature and results.

    Args:
        a: an (M, N) matrix.
        b: (M,) or (M, K).
        rcond: singular values of ``a`` at most ``rcond`` times the largest are taken as
            zero; default ``max(M, N) * eps`` (numpy's).

    Returns:
        ``(x, residuals, rank, s)`` as numpy: ``x`` (N,) or (N, K) = ``pinv(a) @ b``; the
        squared residual norms (K,) (or (1,)) when the rank is N and M > N, else an empty
        array (a shape that depends on the rank, read from the values); the rank (an
        integer, a constant); the singular values of ``a``.

    Derivative: ``x``'s is ``pinv``'s and a product's; ``residuals`` and ``s`` are
    differentiable too (``s`` through :func:`svdvals`); ``rank`` is a constant.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> x, res, rank, s = ea.linalg.lstsq(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]),
        ...                                   np.array([1.0, 2.0, 3.0]))
        >>> x, res, int(rank)
        (array([1., 2.]), array([9.]), 2)
    """
    a = matrices(a, "lstsq", what="a")
    b = _check_operand(b, 1, "lstsq")
    a, b = matrix_pair(a, b, "lstsq")
    if a.ndim != 2:
        raise LinAlgError(f"lstsq: a must be 2-dimensional, got shape {tuple(a.shape)}")
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise LinAlgError(f"lstsq: b of shape {tuple(b.shape)} is incompatible with a of "
                          f"shape {tuple(a.shape)} (b must be (M,) or (M, K), M = "
                          f"{a.shape[0]})")
    m, n = a.shape
    cut = _default_rtol(a) if rcond is None else _cutoff(rcond, a, "lstsq", "rcond")
    pv = pinv_p(a, rtol=cut, noise=_default_rtol(a))
    x = einsum_str("ij,j...->i...", pv, b)
    s = svdvals_p(a)
    bk = _backend_of(a)
    sv = unwrap(s)
    if sv.shape[-1]:
        rank = _rank(sv, bk.multiply(bk.max(sv, axis=-1), cut), bk)
    else:
        rank = bk.zeros((), dtype=bk.default_int)
    full = int(rank) == n and m > n  # the residuals' shape depends on the rank's value
    if full:
        res = _squared_norms(sub_p(b, einsum_str("ij,j...->i...", a, x)))
    else:
        real = bk.real_dtype(a.dtype)
        res = bk.zeros((0,), dtype=real, device=bk.device(unwrap(a)))
    return _finish(x), _finish(res), _finish(rank), _finish(s)


def _squared_norms(r):
    """``sum(|r|^2, axis=0)``, real, of shape (K,) (or (1,) for a 1-D ``r``)."""
    rc = conj_p(r) if _kind(r.dtype) == "c" else r
    out = einsum_str("i...,i...->...", rc, r)
    if _kind(r.dtype) == "c":
        out = astype_p(out, dtype=_backend_of(r).real_dtype(r.dtype))
    return reshape_p(out, shape=(1,)) if r.ndim == 1 else out


def matrix_power(a, n):
    """A square matrix (a stack) raised to the integer power ``n``.

    ``n > 0``: repeated squaring, ``2 log2(n)`` matrix products at most (einsum nodes);
    ``n == 0``: the identity (a constant, in ``a``'s dtype); ``n < 0``: the inverse (one
    ``inv`` node) raised to ``-n``.

    Args:
        a: (..., M, M) matrices (integers allowed for ``n >= 0``, as in numpy).
        n: an integer.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.matrix_power(np.array([[1.0, 1.0], [0.0, 1.0]]), 3)
        array([[1., 3.],
               [0., 1.]])
        >>> ea.linalg.matrix_power(np.array([[2.0, 0.0], [0.0, 4.0]]), -1)
        array([[0.5 , 0.  ],
               [0.  , 0.25]])
    """
    x = _check_operand(a, 0, "matrix_power")
    try:
        if isinstance(n, bool):
            raise TypeError
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}") from None
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise LinAlgError(f"matrix_power: a must be a stack of square matrices (at least "
                          f"2-D), got shape {tuple(x.shape)}")
    if n == 0:
        bk = _backend_of(x)
        m = x.shape[-1]
        eye = bk.eye(m, dtype=x.dtype, device=bk.device(unwrap(x)))
        return _finish(bk.copy(bk.broadcast_to(eye, tuple(x.shape))))
    if n < 0:
        x = inv_p(matrices(x, "matrix_power", square=True, what="a"))
        n = -n
    elif not isinstance(x, Tracer) and n == 1:
        return _finish(_backend_of(x).copy(x))
    result, z = None, x
    while True:
        if n & 1:
            result = z if result is None else einsum_str("...ij,...jk->...ik", result, z)
        n >>= 1
        if not n:
            return _finish(result)
        z = einsum_str("...ij,...jk->...ik", z, z)
