"""The linear algebra namespace's boundary: matrix operands checked, made inexact, promoted.

Every function of ``ea.linalg`` passes its operands through here first: a stack of
matrices must have at least two axes (square ones where the function says so), integers
and bool become the backend's default floating dtype (as in numpy), and two operands are
promoted to one dtype. Errors are numpy's: ``LinAlgError`` (a ValueError) for the wrong
number of dimensions or a non-square matrix, naming the function and the shape.
"""

from __future__ import annotations

from typing import NamedTuple

from ... import backend as _backend
from ...core import unwrap
from ...rules import astype_p, conj_p, einsum_str
from .._args import _backend_of, _check_operand, _finish, _operands

# numpy's error for matrices that are not (it subclasses ValueError)
LinAlgError = _backend.default().xp.linalg.LinAlgError
_kind = _backend.kind

__all__ = ["LinAlgError", "EighResult", "QRResult", "SlogdetResult", "SVDResult", "matrices",
           "matrix_pair", "inexact", "conj_transpose", "finish_all"]


class EighResult(NamedTuple):
    """``eigh``'s result: eigenvalues (ascending, real) and eigenvectors (columns)."""

    eigenvalues: object
    eigenvectors: object


class QRResult(NamedTuple):
    """``qr``'s result: ``Q`` (orthonormal columns) and ``R`` (upper triangular)."""

    Q: object
    R: object


class SlogdetResult(NamedTuple):
    """``slogdet``'s result: the sign of the determinant and the log of its magnitude."""

    sign: object
    logabsdet: object


class SVDResult(NamedTuple):
    """``svd``'s result: ``U``, the singular values ``S`` (descending) and ``Vh``."""

    U: object
    S: object
    Vh: object


def inexact(x):
    """``x`` (checked) with integers and bool cast to the default floating dtype."""
    if _kind(x.dtype) in "biu":
        return astype_p(x, dtype=_backend_of(x).default_float)
    return x


def matrices(x, fname, square=False, what="x"):
    """``x`` as a stack of matrices (at least 2-D; square ones when asked), inexact."""
    x = _check_operand(x, 0, fname, what)
    if x.ndim < 2:
        raise LinAlgError(f"{fname}: {x.ndim}-dimensional array given (shape "
                          f"{tuple(x.shape)}); {what} must be at least two-dimensional")
    if square and x.shape[-1] != x.shape[-2]:
        raise LinAlgError(f"{fname}: the last 2 dimensions of {what} must be square, got "
                          f"shape {tuple(x.shape)}")
    return inexact(x)


def matrix_pair(a, b, fname):
    """Two operands of one library, inexact and promoted to one dtype."""
    (a, b), bk = _operands((a, b), fname)
    a, b = inexact(a), inexact(b)
    if a.dtype != b.dtype:
        dtype = bk.result_type(unwrap(a).dtype, unwrap(b).dtype)
        a = a if a.dtype == dtype else astype_p(a, dtype=dtype)
        b = b if b.dtype == dtype else astype_p(b, dtype=dtype)
    return a, b


def conj_transpose(x):
    """The conjugate transpose of a stack of matrices (a plain transpose when real)."""
    t = einsum_str("...ij->...ji", x)
    return conj_p(t) if _kind(x.dtype) == "c" else t


def finish_all(parts):
    return tuple(_finish(p) for p in parts)
