"""``ea.linalg``: norms, lowered onto one einsum node (the sum of squares) and a square root."""

from __future__ import annotations

from .. import backend as _backend
from ..rules import astype_p, conj_p, sqrt_p
from ._args import _axis_tuple, _backend_of, _check_operand, _finish
from .multilinear import lower

_kind = _backend.kind

__all__ = ["norm"]


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - numpy's name
    """The Frobenius norm of matrices and the 2-norm of vectors, as ``numpy.linalg.norm``.

    ``sqrt(einsum(x, x))``: one einsum node that contracts ``x`` with itself over ``axis``
    (``keepdims`` folded in as a constant operand, as in :func:`einsum_ad.sum`), then one
    ``sqrt`` node. Its gradient ``x / norm`` is NaN at ``x = 0``, as everywhere.

    Args:
        x: an array (integers and bool are converted to float64, as numpy does).
        ord: None, ``2`` for vectors (``axis`` an int, or ``x`` 1-D), or ``"fro"`` for
            matrices (``axis`` a pair, or ``x`` 2-D). Other orders raise ValueError.
        axis: None (every axis: the 2-norm of the flattened array when ``ord`` is None),
            an int (vector norms) or a pair of ints (matrix norms).
        keepdims: keep the reduced axes with size 1.

    Returns:
        The norm(s), real. For complex ``x``, ``sqrt(Re(einsum(conj(x), x)))``: a traced
        complex ``x`` adds a ``conj`` node before the einsum and an ``astype`` node (the
        real part) after it.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.linalg.norm(np.array([3.0, 4.0])))
        5.0
        >>> ea.linalg.norm(np.ones((2, 4, 3)), axis=(0, 2), keepdims=True).shape
        (1, 4, 1)
    """
    x = _check_operand(x, 0, "norm")
    bk = _backend_of(x)
    if _kind(x.dtype) in "biu":
        x = astype_p(x, dtype=bk.default_float)
    if axis is None and ord is not None and x.ndim not in (1, 2):
        raise ValueError(f"norm: improper number of dimensions to norm: ord={ord!r} needs a "
                         f"1-D or 2-D array or an explicit axis, got shape {tuple(x.shape)}")
    axes = _axis_tuple(axis, x.ndim, "norm")
    if axis is not None and len(axes) > 2:
        raise ValueError(f"norm: improper number of dimensions to norm: axis={axis!r}")
    matrix = len(axes) == 2 and (axis is not None or ord is not None)
    allowed = (None, "fro") if matrix else (None, 2)
    if ord not in allowed:
        raise ValueError(
            f"norm: ord={ord!r} is not supported for {'matrix' if matrix else 'vector'} norms "
            f"(axes {axes} of shape {tuple(x.shape)}); supported: {allowed}"
        )
    labels = list(range(x.ndim))
    if keepdims:
        out = [x.ndim + k if k in axes else k for k in labels]
        ops, terms = [x, x, bk.ones((1,) * len(axes), dtype=x.dtype, device=x.device)], \
            [labels, labels, [x.ndim + k for k in sorted(axes)]]
    else:
        out = [k for k in labels if k not in axes]
        ops, terms = [x, x], [labels, labels]
    if _kind(x.dtype) == "c":
        # sum(conj(x) x) is real: its real part (an astype node), then the square root
        ops[0] = conj_p(x)
        real = bk.real_dtype(x.dtype)
        return _finish(sqrt_p(astype_p(lower(ops, terms, out), dtype=real)))
    return _finish(sqrt_p(lower(ops, terms, out)))
