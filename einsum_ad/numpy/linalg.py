"""``ea.linalg``: norms, lowered onto one einsum node (the sum of squares) and a square root."""

from __future__ import annotations

import numpy as np

from ..core import Tracer
from ..rules import astype_p, conj_p, sqrt_p
from .axes import _axis_tuple
from .multilinear import _check_operand, _finish, lower

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
    if np.dtype(x.dtype).kind in "biu":
        x = np.asarray(x, dtype=np.float64)
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
        ops, terms = [x, x, np.ones((1,) * len(axes), dtype=x.dtype)], \
            [labels, labels, [x.ndim + k for k in sorted(axes)]]
    else:
        out = [k for k in labels if k not in axes]
        ops, terms = [x, x], [labels, labels]
    if np.dtype(x.dtype).kind == "c":
        # sum(conj(x) x) is real: its real part (an astype node), then the square root
        ops[0] = conj_p(x) if isinstance(x, Tracer) else np.conj(x)
        real = np.finfo(x.dtype).dtype
        return _finish(sqrt_p(astype_p(lower(ops, terms, out), dtype=real)))
    return _finish(sqrt_p(lower(ops, terms, out)))
