"""Factorisations: cholesky, eigh, eigvalsh, qr, svd, svdvals.

Each is one primitive of ``rules/linalg.py`` (whose rules differentiate it), with numpy's
and the array API standard's signatures and result tuples. Stacks of matrices are
factorised one by one along the leading axes. Functions of a Hermitian matrix read one
triangle (``UPLO``, numpy's default the lower one) and build the Hermitian matrix from it
first (``rules.hermitian_part``, a selection), so their derivatives read that triangle too.
"""

from __future__ import annotations

from ...core import Tracer
from ...rules import (
    cholesky_p,
    eigh_layout,
    eigh_p,
    eigvalsh_p,
    hermitian_part,
    qr_layout,
    qr_p,
    svd_layout,
    svd_p,
    svdvals_p,
    unpack,
)
from .._args import _backend_of, _finish
from ._common import (
    EighResult,
    LinAlgError,
    QRResult,
    SVDResult,
    conj_transpose,
    finish_all,
    matrices,
)

__all__ = ["cholesky", "eigh", "eigvalsh", "qr", "svd", "svdvals"]


def _uplo(UPLO, fname):
    if UPLO not in ("L", "U"):
        raise ValueError(f"{fname}: UPLO argument must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "L"


def cholesky(x, /, *, upper=False):
    """The Cholesky factor of Hermitian positive-definite matrices: ``x = L H(L)``.

    Args:
        x: (..., M, M) Hermitian (real symmetric) positive-definite matrices. Only the
            lower triangle is read (the upper one with ``upper=True``), as in numpy.
        upper: return the upper factor ``U = H(L)`` (``x = H(U) U``) instead.

    Returns:
        The lower (upper) triangular factors, real positive diagonal, ``x``'s dtype.

    Raises:
        LinAlgError: ``x`` is not square, or (NumPy) not positive definite.

    Derivative: ``dL = L Phi(L^-1 dS L^-H)`` (``Phi``: the strict lower triangle and half
    the diagonal), with triangular solves; the VJP is its transpose.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
        array([[2., 0.],
               [1., 2.]])
        >>> ea.grad(lambda a: ea.sum(ea.linalg.cholesky(a)))(np.eye(2))  # the lower triangle
        array([[0.5, 0. ],
               [1. , 0.5]])
    """
    x = matrices(x, "cholesky", square=True)
    factor = cholesky_p(hermitian_part(x, lower=not upper))
    return _finish(conj_transpose(factor) if upper else factor)


def eigh(a, UPLO="L"):
    """Eigenvalues and eigenvectors of Hermitian (real symmetric) matrices.

    Args:
        a: (..., M, M) matrices; one triangle is read (``UPLO``), as in numpy.
        UPLO: ``"L"`` (the lower triangle, the default) or ``"U"``.

    Returns:
        ``EighResult(eigenvalues, eigenvectors)``: the eigenvalues ascending, real, of
        shape (..., M); the eigenvectors as columns, (..., M, M), ``a``'s dtype.

    Derivative: ``dw = Re diag(H(V) dA V)``, ``dV = V (F o H(V) dA V)`` with
    ``F[i, j] = 1 / (w[j] - w[i])``. The eigenvectors are defined up to sign (a phase for
    complex ``a``): only losses invariant under that choice have a derivative; the
    derivative is the one of the phase convention ``diag(H(V) dV) = 0``. Where two
    eigenvalues are equal (to the factorisation's resolution, ``M * eps * max|w|``) their
    eigenvectors are not determined: the ``1/(w_j - w_i)`` terms of equal eigenvalues are
    taken as 0 (JAX's and PyTorch's convention). The first derivative is then exact for
    symmetric functions of the eigenvalues and for functions of a degenerate eigenspace's
    projector ``V_k H(V_k)``, and finite otherwise: a matrix function ``V diag(f(w)) H(V)``
    misses the ``f'(w)`` terms of the degenerate pairs (its divided differences
    ``(f(w_j) - f(w_i)) / (w_j - w_i)`` become 0), a single eigenvector has no derivative.
    The eigenvalues' own derivative never divides by a gap (see :func:`eigvalsh`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> w, v = ea.linalg.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        >>> w
        array([1., 3.])
        >>> ea.grad(lambda a: ea.linalg.eigh(a).eigenvalues[1])(np.array([[2.0, 1.0],
        ...                                                                [1.0, 2.0]]))
        array([[0.5, 0. ],
               [1. , 0.5]])
    """
    a = matrices(a, "eigh", square=True, what="a")
    lower = _uplo(UPLO, "eigh")
    s = hermitian_part(a, lower=lower)
    w, v = unpack(eigh_p(s, lower=lower), eigh_layout(s.shape))
    return EighResult(*finish_all((w, v)))


def eigvalsh(a, UPLO="L"):
    """The eigenvalues of Hermitian (real symmetric) matrices, ascending.

    Args:
        a: (..., M, M) matrices; one triangle is read (``UPLO``), as in numpy.
        UPLO: ``"L"`` (the default) or ``"U"``.

    Returns:
        (..., M) real eigenvalues.

    Derivative: its own rule, ``dw = Re diag(H(V) dA V)`` and ``A_bar = conj(V)
    diag(w_bar) V^T``: no division by eigenvalue gaps, so the first derivative of any
    symmetric function of the eigenvalues (a trace, a log-determinant, ``sum(f(w))``) is
    exact at repeated eigenvalues. A second derivative goes through the eigenvectors'
    derivative: at repeated eigenvalues it misses the terms of the degenerate pairs (the
    second derivative of ``sum(f(w))`` there lacks the ``f''(w)`` of the pairs: finite,
    exact only where ``f''`` vanishes, as for the trace; see :func:`eigh`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
        array([1., 3.])
        >>> ea.grad(lambda a: ea.sum(ea.linalg.eigvalsh(a) ** 2))(np.eye(2))  # 2a, exact
        array([[2., 0.],
               [0., 2.]])
    """
    a = matrices(a, "eigvalsh", square=True, what="a")
    lower = _uplo(UPLO, "eigvalsh")
    return _finish(eigvalsh_p(hermitian_part(a, lower=lower), lower=lower))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """The singular value decomposition ``a = U diag(S) Vh`` of a stack of matrices.

    Args:
        a: (..., M, N) matrices.
        full_matrices: ``U`` of shape (..., M, M) and ``Vh`` (..., N, N) (the default);
            else the thin ``(..., M, K)`` and ``(..., K, N)``, ``K = min(M, N)``.
        compute_uv: False returns the singular values alone (:func:`svdvals`).
        hermitian: ``a`` is Hermitian: its lower triangle is read, as numpy's eigh-based
            path does (the factors are those of the general SVD of that matrix).

    Returns:
        ``SVDResult(U, S, Vh)`` (``S`` descending, real), or ``S`` alone.

    Derivative: singular vectors are defined up to a sign (a phase) per pair: only losses
    invariant under that choice have a derivative (the phase of a pair's tangent is split
    evenly between ``U`` and ``V``). The vectors' rule is written with the partial
    fractions of ``1 / (s_j^2 - s_i^2)``: ``1 / (s_j - s_i)``, taken as 0 for repeated
    singular values (as JAX and PyTorch take the whole factor), and ``1 / (s_i + s_j)``,
    kept. So at repeated singular values the derivative is exact for symmetric functions
    of the singular values, for ``U Vh`` (a nuclear norm's gradient, whose derivative is
    exact too) and for the projectors on a degenerate singular space; finite otherwise
    (``U diag(f(s)) Vh`` misses its ``f'(s)`` terms there). With ``M != N`` the thin
    vectors' derivative divides by each singular value (undefined for rank-deficient
    ``a``).
    The extra columns of a full ``U`` (rows of ``Vh``) are any orthonormal completion:
    their tangent is ``-U1 H(dU1) U2`` (no rotation inside the complement), exact for
    every function of the complement's projector ``U2 H(U2)``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> u, s, vh = ea.linalg.svd(np.array([[3.0, 0.0], [0.0, -2.0]]))
        >>> s
        array([3., 2.])
        >>> ea.grad(lambda a: ea.linalg.svd(a).S[0])(np.array([[3.0, 0.0], [0.0, -2.0]]))
        array([[1., 0.],
               [0., 0.]])
    """
    a = matrices(a, "svd", what="a")
    if hermitian:
        if a.shape[-1] != a.shape[-2]:
            raise LinAlgError(
                f"svd: hermitian=True needs square matrices, got shape {tuple(a.shape)}")
        a = hermitian_part(a, lower=True)
    if not compute_uv:
        return _finish(svdvals_p(a))
    full = bool(full_matrices)
    parts = unpack(svd_p(a, full_matrices=full), svd_layout(a.shape, full))
    return SVDResult(*finish_all(parts))


def svdvals(x, /):
    """The singular values of a stack of matrices, descending (the array API's function).

    Args:
        x: (..., M, N) matrices.

    Returns:
        (..., min(M, N)) real singular values.

    Derivative: its own rule, ``ds = Re diag(H(U) dA V)``, ``A_bar = conj(U diag(s_bar)
    Vh)``: no division by gaps, so the first derivative of any symmetric function of the
    singular values is exact at repeated ones; so is the nuclear norm's second derivative
    (see :func:`svd`); other second derivatives there lack the ``f''`` of the degenerate
    pairs.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.svdvals(np.array([[0.0, 2.0], [1.0, 0.0]]))
        array([2., 1.])
        >>> ea.grad(lambda a: ea.sum(ea.linalg.svdvals(a)))(2 * np.eye(2))  # nuclear norm
        array([[1., 0.],
               [0., 1.]])
    """
    return _finish(svdvals_p(matrices(x, "svdvals")))


def qr(a, mode="reduced"):
    """The QR decomposition ``a = Q R`` of a stack of matrices.

    Args:
        a: (..., M, N) matrices, ``K = min(M, N)``; the derivative needs the first ``K``
            columns linearly independent (as the standard's definition does).
        mode: ``"reduced"`` (``Q`` (..., M, K), ``R`` (..., K, N)), ``"complete"``
            (``Q`` (..., M, M), ``R`` (..., M, N)), ``"r"`` (``R`` of the reduced mode
            alone) or ``"raw"`` (numpy's Householder form ``(h, tau)``: NumPy arrays
            only, not differentiated).

    Returns:
        ``QRResult(Q, R)``; ``R`` alone for ``"r"``; ``(h, tau)`` for ``"raw"``.

    Derivative: ``R`` has a real diagonal (LAPACK's), which fixes ``Q`` and ``R``; the
    extra columns of a complete ``Q`` (``M > N``) are any orthonormal completion: their
    tangent is ``-Q1 H(dQ1) Q2`` (exact for functions of ``Q2 H(Q2)``).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> q, r = ea.linalg.qr(np.array([[3.0, 1.0], [4.0, 2.0]]))
        >>> np.round(r, 6)
        array([[-5. , -2.2],
               [ 0. ,  0.4]])
    """
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"qr: unrecognized mode {mode!r}; use 'reduced', 'complete', 'r' "
                         "or 'raw'")
    a = matrices(a, "qr", what="a")
    if mode == "raw":
        if isinstance(a, Tracer):
            raise TypeError("qr: mode='raw' gives LAPACK's Householder reflectors (h, tau), "
                            "which einsum_ad does not differentiate; use mode='reduced' or "
                            "'complete'")
        return finish_all(_backend_of(a).linalg_qr(a, "raw"))
    core = "complete" if mode == "complete" else "reduced"
    q, r = unpack(qr_p(a, mode=core), qr_layout(a.shape, core))
    if mode == "r":
        return _finish(r)
    return QRResult(*finish_all((q, r)))
