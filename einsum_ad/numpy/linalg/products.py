"""Products and matrix views of the linear algebra extension: matmul, matrix_transpose,
tensordot, vecdot, outer, cross, diagonal, trace, multi_dot.

Each is one einsum node (the generic einsum rule differentiates it): the first four are the
main namespace's functions under the extension's signatures, ``diagonal`` and ``trace``
take the last two axes (the standard's choice; numpy's main-namespace ``trace`` takes the
first two), ``cross`` contracts with the Levi-Civita tensor, and ``multi_dot`` is one n-ary
node whose contraction order the path optimizer chooses.
"""

from __future__ import annotations

import operator

from ... import backend as _backend
from ...core import unwrap
from ...rules import astype_p
from .. import axes as _axes
from .. import multilinear as _ml
from .._args import AxisError, _broadcast, _finish, _operands, store_out

__all__ = ["matmul", "matrix_transpose", "tensordot", "vecdot", "outer", "cross", "diagonal",
           "trace", "multi_dot"]

_kind = _backend.kind


def matmul(x1, x2, /):
    """The matrix product (the standard's ``linalg.matmul``, an alias of
    :func:`einsum_ad.matmul`): one einsum node.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.matmul(np.ones((4, 2, 3)), np.ones((3, 5))).shape
        (4, 2, 5)
    """
    return _ml.matmul(x1, x2)


def matrix_transpose(x, /):
    """Swap the last two axes (an alias of :func:`einsum_ad.matrix_transpose`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.matrix_transpose(np.ones((4, 2, 3))).shape
        (4, 3, 2)
    """
    return _axes.matrix_transpose(x)


def tensordot(x1, x2, /, *, axes=2):
    """:func:`einsum_ad.tensordot` with the standard's keyword-only ``axes``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.tensordot(np.ones((2, 3, 4)), np.ones((3, 4, 5)), axes=2).shape
        (2, 5)
    """
    return _ml.tensordot(x1, x2, axes)


def vecdot(x1, x2, /, *, axis=-1):
    """``sum(conj(x1) * x2, axis)`` with the other axes broadcast (an alias of
    :func:`einsum_ad.vecdot`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.vecdot(np.ones((2, 3)), np.arange(3.0))
        array([3., 3.])
    """
    return _ml.vecdot(x1, x2, axis=axis)


def outer(x1, x2, /):
    """The outer product of two vectors (the standard's: both must be 1-D).

    Raises:
        ValueError: an operand is not one-dimensional.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.outer(np.array([1.0, 2.0]), np.array([1.0, 10.0]))
        array([[ 1., 10.],
               [ 2., 20.]])
    """
    (a, b), _ = _operands((x1, x2), "outer")
    for k, x in enumerate((a, b)):
        if x.ndim != 1:
            raise ValueError(f"outer: input arrays must be one-dimensional, operand {k} has "
                             f"shape {tuple(x.shape)}")
    return _ml.outer(a, b)


def diagonal(x, /, *, offset=0):
    """The diagonals of the last two axes, as a last axis (the standard's ``linalg.diagonal``).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.diagonal(np.arange(8.0).reshape(2, 2, 2))
        array([[0., 3.],
               [4., 7.]])
    """
    return _axes.diagonal(x, offset, -2, -1)


def trace(x, /, *, offset=0, dtype=None):
    """The sums of the diagonals of the last two axes (the standard's ``linalg.trace``).

    ``dtype`` as the standard and numpy: by default ``x``'s, small integers widened to the
    default integer. One einsum node.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.trace(np.arange(8.0).reshape(2, 2, 2))
        array([ 3., 11.])
    """
    return _axes.trace(x, offset, -2, -1, dtype)


def _levi_civita(bk, dtype, device):
    """``eps[i, j, k]`` = ``(i - j)(j - k)(k - i) / 2`` for i, j, k in 0..2: the sign of the
    permutation (0 when two indices are equal), on the operands' device."""
    i = bk.arange(3, device=device)
    a, b, c = bk.reshape(i, (3, 1, 1)), bk.reshape(i, (1, 3, 1)), bk.reshape(i, (1, 1, 3))
    prod = bk.multiply(bk.multiply(bk.subtract(a, b), bk.subtract(b, c)), bk.subtract(c, a))
    return bk.astype(bk.floor_divide(prod, bk.asarray(2, dtype=prod.dtype, device=device)),
                     dtype)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-element vectors along ``axis``, other axes broadcast.

    One einsum node, ``out_i = eps_ijk x1_j x2_k`` with the Levi-Civita tensor as a constant
    operand, so its derivative is the generic einsum rule's (no conjugation for complex).

    Args:
        x1, x2: arrays whose ``axis`` has size 3 in both (that axis is not broadcast).
        axis: the vectors' axis, counted from the end as the standard asks (``-1`` the
            last); a non-negative axis counts from the start of each array, as numpy does.

    Returns:
        The cross products, with the vectors' axis at ``axis`` of the broadcast shape, in
        the promoted dtype.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        array([0., 0., 1.])
    """
    (a, b), bk = _operands((x1, x2), "cross")
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"cross: axis must be an integer, got {axis!r}") from None
    cores = []
    for k, x in enumerate((a, b)):
        if not -x.ndim <= axis < x.ndim:
            raise AxisError(f"cross: axis {axis} is out of bounds for operand {k} of shape "
                            f"{tuple(x.shape)}")
        cores.append(axis % x.ndim)
    if a.shape[cores[0]] != 3 or b.shape[cores[1]] != 3:
        raise ValueError(f"cross: both inputs must be (arrays of) 3-element vectors along "
                         f"axis {axis}, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    dtype = bk.result_type(a.dtype, b.dtype)
    a = a if a.dtype == dtype else astype_p(a, dtype=dtype)
    b = b if b.dtype == dtype else astype_p(b, dtype=dtype)
    batch = [tuple(d for i, d in enumerate(x.shape) if i != c) for x, c in zip((a, b), cores)]
    nb = len(_broadcast("cross", *batch))
    terms = []
    for label, (c, s) in zip((nb + 1, nb + 2), zip(cores, batch)):
        labels = list(range(nb - len(s), nb))  # batch axes, right-aligned
        labels.insert(c, label)
        terms.append(labels)
    out = list(range(nb))
    out.insert(axis if axis >= 0 else nb + 1 + axis, nb)
    eps = _levi_civita(bk, dtype, bk.device(unwrap(a)))
    return _ml.lower([a, b, eps], terms + [[nb, nb + 1, nb + 2]], out)


def multi_dot(arrays, *, out=None):
    """The product of two or more matrices, as ``numpy.linalg.multi_dot``: one n-ary
    einsum node, whose contraction order (the cheapest parenthesisation) the path optimizer
    chooses once per shapes.

    Args:
        arrays: a sequence of arrays; the first may be 1-D (a row vector) and the last 1-D
            (a column vector), the others 2-D.
        out: a plain array to write the result into.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.linalg.multi_dot([np.ones(3), np.ones((3, 4)), np.ones((4, 2))])
        array([12., 12.])
    """
    arrays = list(arrays)
    if len(arrays) < 2:
        raise ValueError(f"multi_dot: expecting at least two arrays, got {len(arrays)}")
    ops, _ = _operands(arrays, "multi_dot", "array")
    n = len(ops)
    terms = []
    for k, x in enumerate(ops):
        edge = k in (0, n - 1)
        if x.ndim != 2 and not (edge and x.ndim == 1):
            raise ValueError(f"multi_dot: array {k} has shape {tuple(x.shape)}; the first and "
                             "last arrays must be 1-D or 2-D, the others 2-D")
        terms.append([k + 1] if (x.ndim == 1 and k == 0) else [k] if x.ndim == 1
                     else [k, k + 1])
    sizes = {}
    for k, (x, t) in enumerate(zip(ops, terms)):
        for label, d in zip(t, x.shape):
            if sizes.setdefault(label, d) != d:
                raise ValueError(f"multi_dot: shapes not aligned: array {k} of shape "
                                 f"{tuple(x.shape)} meets a dimension of size "
                                 f"{sizes[label]}")
    output = ([0] if ops[0].ndim == 2 else []) + ([n] if ops[-1].ndim == 2 else [])
    res = _ml.lower(ops, terms, output)
    return store_out(res, out, "multi_dot") if out is not None else _finish(res)
