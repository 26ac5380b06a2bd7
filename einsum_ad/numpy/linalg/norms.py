"""Norms: vector_norm, matrix_norm (the standard's), norm (numpy's), cond.

Lowered onto existing nodes: the 2-norm and the Frobenius norm are one einsum node (the sum
of squares) and a square root; the 1-, inf- and p-norms are ``abs``, a power, sums (einsum
nodes) and ``max``/``min`` reductions (ties split the derivative evenly); the nuclear and
spectral norms are sums, maxima and minima of :func:`svdvals`, whose derivative is exact at
repeated singular values (at a repeated largest one, the 2-norm's gradient is the mean of
the tied singular pairs' ``u v^H``: a subgradient, whatever basis the SVD chose).
"""

from __future__ import annotations

import math
import numbers

from ... import backend as _backend
from ...core import unwrap
from ...rules import astype_p, conj_p, not_equal_p, reshape_p, sqrt_p, svdvals_p, zero
from .. import divide, multiply, power
from .. import elementwise as _ew
from .. import reductions as _red
from .._args import _axis_tuple, _backend_of, _check_operand, _finish
from ..axes import permute_dims
from ..axes import sum as _sum
from ..multilinear import lower
from ._common import LinAlgError, inexact, matrices
from .solvers import inv

_kind = _backend.kind

__all__ = ["vector_norm", "matrix_norm", "norm", "cond"]


def _is_number(ord):  # noqa: A002 - numpy's name
    return isinstance(ord, numbers.Real) and not isinstance(ord, bool)


def _keep(res, shape, axes, keepdims):
    """``res`` with the reduced ``axes`` of ``shape`` kept as size 1 when asked."""
    if not keepdims:
        return res
    return reshape_p(res, shape=tuple(1 if i in axes else d for i, d in enumerate(shape)))


def _two_norm(x, axes, keepdims):
    """``sqrt(Re(einsum(conj(x), x)))`` over ``axes``: one einsum node (``keepdims`` folded
    in as a constant operand), a ``conj`` node before it for traced complex ``x``, the
    real part and the square root after it."""
    bk = _backend_of(x)
    labels = list(range(x.ndim))
    if keepdims:
        out = [x.ndim + k if k in axes else k for k in labels]
        ops, terms = [x, x, bk.ones((1,) * len(axes), dtype=x.dtype,
                                     device=bk.device(unwrap(x)))], \
            [labels, labels, [x.ndim + k for k in sorted(axes)]]
    else:
        out = [k for k in labels if k not in axes]
        ops, terms = [x, x], [labels, labels]
    if _kind(x.dtype) == "c":
        ops[0] = conj_p(x)
        return sqrt_p(astype_p(lower(ops, terms, out), dtype=bk.real_dtype(x.dtype)))
    return sqrt_p(lower(ops, terms, out))


def _vector_norm(x, axes, keepdims, ord):  # noqa: A002
    """The vector norm of order ``ord`` over the normalised ``axes`` of inexact ``x``."""
    if ord == 2:
        return _two_norm(x, axes, keepdims)
    if ord == 0:
        nonzero = not_equal_p(x, zero(x))
        real = _backend_of(x).real_dtype(x.dtype)
        return _sum(astype_p(nonzero, dtype=real), axis=axes, keepdims=keepdims)
    mag = _ew.abs(x)
    if ord == math.inf:
        return _red.max(mag, axis=axes, keepdims=keepdims)
    if ord == -math.inf:
        return _red.min(mag, axis=axes, keepdims=keepdims)
    if ord == 1:
        return _sum(mag, axis=axes, keepdims=keepdims)
    p = float(ord)
    return power(_sum(power(mag, p), axis=axes, keepdims=keepdims), 1.0 / p)


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):  # noqa: A002
    """The vector norm over ``axis`` (the array API standard's ``linalg.vector_norm``).

    Args:
        x: an array (integers are cast to the default floating dtype).
        axis: None (every axis: the norm of the flattened array), an int or a tuple.
        keepdims: keep the reduced axes with size 1.
        ord: ``2`` (default), ``1``, ``inf``, ``-inf``, ``0`` (the number of nonzeros, a
            constant), or any other number ``p``: ``sum(|x|**p)**(1/p)`` (for ``p < 1``,
            ``-1`` and ``-2`` included, not a norm; as the standard defines it).

    Returns:
        The norms, real (complex ``x``'s precision).

    Derivatives: ``x / norm`` for ``ord=2`` (NaN at ``x = 0``, where the norm has none);
    ``abs``'s for the others (0 at a zero entry); ``max``/``min`` split ties evenly.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.linalg.vector_norm(np.array([3.0, -4.0])))
        5.0
        >>> float(ea.linalg.vector_norm(np.array([3.0, -4.0]), ord=np.inf))
        4.0
    """
    x = inexact(_check_operand(x, 0, "vector_norm"))
    if not _is_number(ord):
        raise ValueError(f"vector_norm: invalid norm order {ord!r} for vectors (a number, "
                         "inf or -inf)")
    axes = _axis_tuple(axis, x.ndim, "vector_norm")
    return _finish(_vector_norm(x, axes, bool(keepdims), ord))


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf)


def _matrix_ord(ord, fname):  # noqa: A002
    """``ord`` checked to be one of the matrix norms' orders."""
    if isinstance(ord, str):
        ok = ord in ("fro", "nuc")
    else:
        ok = _is_number(ord) and ord in _MATRIX_ORDS[2:]
    if not ok:
        raise ValueError(f"{fname}: invalid norm order {ord!r} for matrices; use one of "
                         "'fro', 'nuc', 1, -1, 2, -2, inf, -inf")
    return ord


def _matrix_norm(x, ord, keepdims):  # noqa: A002
    """The matrix norm of the last two axes of inexact ``x`` (at least 2-D)."""
    nd = x.ndim
    last = (nd - 2, nd - 1)
    if ord == "fro":
        return _two_norm(x, last, keepdims)
    if ord in ("nuc", 2, -2):
        s = svdvals_p(x)
        if ord == "nuc":
            res = _sum(s, axis=-1)
        else:
            res = (_red.max if ord == 2 else _red.min)(s, axis=-1)
        return _keep(res, x.shape, last, keepdims)
    mag = _ew.abs(x)
    if ord in (1, -1):  # the largest (smallest) column sum
        sums = _sum(mag, axis=-2)
    else:  # inf, -inf: the largest (smallest) row sum
        sums = _sum(mag, axis=-1)
    res = (_red.max if ord in (1, math.inf) else _red.min)(sums, axis=-1)
    return _keep(res, x.shape, last, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):  # noqa: A002
    """The matrix norm of the last two axes (the array API standard's ``linalg.matrix_norm``).

    Args:
        x: (..., M, N) matrices.
        keepdims: keep the last two axes with size 1.
        ord: ``"fro"`` (default), ``"nuc"`` (the sum of the singular values), ``2`` / ``-2``
            (the largest / smallest singular value), ``1`` / ``-1`` (the largest / smallest
            column sum of ``|x|``), ``inf`` / ``-inf`` (row sums).

    Returns:
        The norms, real.

    Derivatives: ``"nuc"``, ``2`` and ``-2`` through :func:`svdvals` (exact at repeated
    singular values; at a tie for the largest (smallest) one, the tied values share the
    derivative evenly, as ``max`` does); the others through ``abs``, sums and ``max`` /
    ``min``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> x = np.array([[1.0, -2.0], [3.0, 4.0]])
        >>> float(ea.linalg.matrix_norm(x, ord=1)), float(ea.linalg.matrix_norm(x, ord=np.inf))
        (6.0, 7.0)
    """
    x = matrices(x, "matrix_norm")
    return _finish(_matrix_norm(x, _matrix_ord(ord, "matrix_norm"), bool(keepdims)))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - numpy's name
    """A matrix or vector norm, as ``numpy.linalg.norm``.

    Args:
        x: an array (integers are cast to float64).
        ord: the order: vector norms take ``None`` (2), ``inf``, ``-inf``, ``0``, ``1``,
            ``-1``, ``2``, any number; matrix norms ``None`` (``"fro"``), ``"fro"``,
            ``"nuc"``, ``inf``, ``-inf``, ``1``, ``-1``, ``2``, ``-2``.
        axis: None (with ``ord=None``, the 2-norm of the flattened array; with an ``ord``,
            ``x`` must be 1-D or 2-D), an int (vector norms), or a pair of ints (matrix
            norms of those axes, rows then columns).
        keepdims: keep the reduced axes with size 1.

    Returns:
        The norm(s), real.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.linalg.norm(np.array([3.0, 4.0])))
        5.0
        >>> ea.linalg.norm(np.ones((2, 4, 3)), axis=(0, 2), keepdims=True).shape
        (1, 4, 1)
        >>> float(ea.linalg.norm(np.array([[1.0, -2.0], [3.0, 4.0]]), ord=1))
        6.0
    """
    x = inexact(_check_operand(x, 0, "norm"))
    if axis is None:
        if ord is None:
            return _finish(_two_norm(x, tuple(range(x.ndim)), bool(keepdims)))
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: improper number of dimensions to norm: ord={ord!r} needs "
                             f"a 1-D or 2-D array or an explicit axis, got shape "
                             f"{tuple(x.shape)}")
        axis = tuple(range(x.ndim))
    axes = _axis_tuple(axis, x.ndim, "norm")
    if len(axes) == 1:
        if ord is None:
            ord = 2  # noqa: A001
        if not _is_number(ord):
            raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
        return _finish(_vector_norm(x, axes, bool(keepdims), ord))
    if len(axes) != 2:
        raise ValueError(f"norm: improper number of dimensions to norm: axis={axis!r}")
    ord = _matrix_ord("fro" if ord is None else ord, "norm")  # noqa: A001
    if ord == "fro":  # one einsum node over the two axes, in any order
        return _finish(_two_norm(x, axes, bool(keepdims)))
    row, col = axes
    rest = [i for i in range(x.ndim) if i not in axes]
    moved = x if (row, col) == (x.ndim - 2, x.ndim - 1) else \
        permute_dims(x, tuple(rest + [row, col]))
    res = _matrix_norm(moved, ord, False)
    return _finish(_keep(res, x.shape, set(axes), bool(keepdims)))


def cond(x, p=None):
    """The condition number of each square (or, for ``p`` None/2/-2, any) matrix, as
    ``numpy.linalg.cond``.

    ``p`` None or 2: ``s_max / s_min`` (:func:`svdvals`); -2: ``s_min / s_max``; any
    matrix norm order otherwise: ``norm(x, p) * norm(inv(x), p)``. Differentiable as the
    functions it is made of.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.linalg.cond(np.array([[2.0, 0.0], [0.0, 0.5]])))
        4.0
    """
    x = matrices(x, "cond")
    if p is None or (p in (2, -2) and not isinstance(p, bool)):
        s = svdvals_p(x)
        big, small = _red.max(s, axis=-1), _red.min(s, axis=-1)
        return divide(small, big) if p == -2 else divide(big, small)
    p = _matrix_ord(p, "cond")
    if x.shape[-1] != x.shape[-2]:
        raise LinAlgError(f"cond: p={p!r} needs square matrices, got shape {tuple(x.shape)}")
    return multiply(_finish(_matrix_norm(x, p, False)),
                    _finish(_matrix_norm(inv(x), p, False)))
