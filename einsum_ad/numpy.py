"""The user namespace: numpy-compatible functions on plain arrays and traced values.

Multilinear functions come from ``multilinear.py`` (lowerings onto einsum); the others are
thin wrappers over the primitives of ``rules.py``. This module also gives traced values
their operators.
"""

from __future__ import annotations

import numpy as np

from . import rules
from .axes import (  # noqa: F401  (re-exported)
    diagonal,
    matrix_transpose,
    mean,
    moveaxis,
    permute_dims,
    sum,
    swapaxes,
    trace,
    transpose,
)
from .core import Tracer
from .multilinear import (  # noqa: F401  (re-exported)
    _check_operand,
    _finish,
    _pair,
    asarray,
    dot,
    einsum,
    inner,
    kron,
    matmul,
    multiply,
    outer,
    tensordot,
    vdot,
    vecdot,
)

__all__ = ["einsum", "matmul", "multiply", "transpose", "asarray", "add", "subtract",
           "negative", "divide", "power",
           # lowerings onto one einsum node (multilinear.py, axes.py)
           "dot", "vdot", "inner", "outer", "tensordot", "kron", "vecdot", "permute_dims",
           "swapaxes", "moveaxis", "matrix_transpose", "diagonal", "trace", "sum", "mean"]


def add(a, b):
    """Elementwise sum with broadcasting."""
    return _finish(rules.add_p(*_pair(a, b)))


def subtract(a, b):
    """Elementwise difference with broadcasting."""
    return _finish(rules.sub_p(*_pair(a, b)))


def negative(a):
    """Elementwise negation."""
    return _finish(rules.neg_p(_check_operand(a, 0, "negative")))


def divide(a, b):
    """Elementwise true division with broadcasting."""
    return _finish(rules.div_p(*_pair(a, b)))


def power(a, exponent):
    """``a ** exponent`` elementwise, for a constant (untraced scalar) exponent."""
    if isinstance(exponent, Tracer):
        raise TypeError("power: the exponent must be a constant, not a traced value")
    if np.ndim(exponent) != 0:
        raise TypeError(f"power: the exponent must be a scalar, got shape {np.shape(exponent)}")
    exponent = exponent.item() if hasattr(exponent, "item") else exponent
    return _finish(rules.pow_p(_check_operand(a, 0, "power"), exponent=exponent))


# ------------------------------------------------------------- operators on traced values


def _install_operators():
    T = Tracer
    T.__add__ = lambda s, o: add(s, o)
    T.__radd__ = lambda s, o: add(o, s)
    T.__sub__ = lambda s, o: subtract(s, o)
    T.__rsub__ = lambda s, o: subtract(o, s)
    T.__mul__ = lambda s, o: multiply(s, o)
    T.__rmul__ = lambda s, o: multiply(o, s)
    T.__truediv__ = lambda s, o: divide(s, o)
    T.__rtruediv__ = lambda s, o: divide(o, s)
    T.__matmul__ = lambda s, o: matmul(s, o)
    T.__rmatmul__ = lambda s, o: matmul(o, s)
    T.__neg__ = lambda s: negative(s)
    T.__pos__ = lambda s: s
    T.__pow__ = lambda s, o: power(s, o)
    T.T = property(lambda s: transpose(s))


_install_operators()
