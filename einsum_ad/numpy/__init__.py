"""The user namespace: numpy-compatible functions on plain arrays and traced values.

Multilinear functions come from ``multilinear.py`` and ``axes.py`` (lowerings onto einsum);
elementwise functions from ``nonlinear.py``, non-multilinear reductions from
``reductions.py``, shape and indexing functions from ``structure.py`` (thin wrappers over the
primitives of the ``rules*.py`` table). This module defines the arithmetic and gives traced
values their operators (arithmetic, comparisons, indexing) and a few numpy-style methods.
"""

from __future__ import annotations

from .. import backend as _backend
from .. import rules
from ..core import Tracer, concrete
from ..rules import powt_p
from ._args import _backend_of, _check_operand, _finish, _is_pyscalar, _pair, asarray
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
from .elementwise import (  # noqa: F401  (re-exported)
    abs,
    absolute,
    clip,
    cos,
    equal,
    exp,
    expm1,
    gelu,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    maximum,
    minimum,
    not_equal,
    relu,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    stop_gradient,
    tanh,
    where,
)
from .multilinear import (  # noqa: F401  (re-exported)
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
from .reductions import (  # noqa: F401  (re-exported)
    amax,
    amin,
    log_softmax,
    logsumexp,
    max,
    min,
    softmax,
)
from .structure import (  # noqa: F401  (re-exported)
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    getitem,
    reshape,
    split,
    squeeze,
    stack,
    take_along_axis,
)

__all__ = ["einsum", "matmul", "multiply", "transpose", "asarray", "add", "subtract",
           "negative", "divide", "power",
           # lowerings onto one einsum node (multilinear.py, axes.py)
           "dot", "vdot", "inner", "outer", "tensordot", "kron", "vecdot", "permute_dims",
           "swapaxes", "moveaxis", "matrix_transpose", "diagonal", "trace", "sum", "mean",
           # elementwise, reductions, structure (nonlinear.py, reductions.py, structure.py)
           "exp", "log", "log1p", "expm1", "sqrt", "abs", "absolute", "sign", "tanh",
           "sigmoid", "relu", "gelu", "softplus", "sin", "cos", "square", "maximum",
           "minimum", "where", "clip", "max", "min", "amax", "amin", "logsumexp", "softmax",
           "log_softmax", "stop_gradient", "equal", "not_equal", "less", "less_equal",
           "greater", "greater_equal", "reshape", "broadcast_to", "expand_dims", "squeeze",
           "concatenate", "stack", "split", "take_along_axis", "astype"]


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
    """Elementwise true division with broadcasting.

    As in numpy, integer and bool operands divide in float64, so a Python int next to an
    integer array need not fit that array's dtype (``divide(int8_array, 300)`` is float64).
    """
    if _is_pyscalar(a) != _is_pyscalar(b):
        k = 0 if _is_pyscalar(a) else 1  # which one is the Python scalar
        other = _check_operand(b if k == 0 else a, 1 - k, "divide")
        scalar = a if k == 0 else b
        if isinstance(scalar, int) and not isinstance(scalar, bool) \
                and _backend.kind(other.dtype) in "biu":
            bk = _backend_of(other)  # what integer division computes in (numpy: float64)
            scalar = bk.scalar(scalar, bk.default_float, other.device)
        a, b = (scalar, other) if k == 0 else (other, scalar)
    return _finish(rules.div_p(*_pair(a, b)))


def power(a, exponent):
    """``a ** exponent`` elementwise, with broadcasting.

    A constant scalar exponent is a parameter of the node (``x ** 2`` costs one power);
    a traced or array exponent makes a two-operand node whose exponent derivative is
    ``a**b log(a)`` (taken as 0 where ``a == 0``, as in JAX).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.grad(lambda b: ea.power(2.0, b))(3.0))  # 2**3 log 2
        5.545177444479562
    """
    numpy = _backend.default()
    if isinstance(exponent, (bool, int, float, complex)) or (
            _backend.of(exponent) is numpy and exponent.shape == ()):
        # a numpy scalar or 0-d array keeps its dtype (it takes part in type promotion:
        # float32 ** float64(2) is float64, as in numpy); a Python scalar stays weak
        if _backend.of(exponent) is numpy:
            exponent = numpy.asarray(exponent)[()]
        return _finish(rules.pow_p(_check_operand(a, 0, "power"), exponent=exponent))
    return _finish(powt_p(*_pair(a, exponent)))


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
    T.__rpow__ = lambda s, o: power(o, s)
    T.T = property(lambda s: transpose(s))
    T.__abs__ = lambda s: abs(s)
    T.__getitem__ = lambda s, key: getitem(s, key)
    T.__iter__ = _iterate
    for name, fn in (("__lt__", less), ("__le__", less_equal), ("__gt__", greater),
                     ("__ge__", greater_equal), ("__eq__", equal), ("__ne__", not_equal)):
        setattr(T, name, _comparison_operator(fn))
    T.__hash__ = object.__hash__  # defining __eq__ must not make tracers unhashable
    T.reshape = lambda s, *shape, order="C": reshape(
        s, shape[0] if len(shape) == 1 else shape, order=order)
    T.astype = lambda s, dtype: astype(s, dtype)
    T.squeeze = lambda s, axis=None: squeeze(s, axis)
    # numpy's signatures, ``out`` included: ``np.sum(tracer)`` calls ``tracer.sum(axis=None,
    # dtype=None, out=None)``, and ``np.transpose(tracer)`` calls ``tracer.transpose(None)``
    T.max = max
    T.min = min
    T.sum = sum
    T.mean = mean
    T.dot = lambda s, o: dot(s, o)
    T.transpose = lambda s, *axes: transpose(s, _method_axes(axes))
    T.swapaxes = lambda s, axis1, axis2: swapaxes(s, axis1, axis2)
    T.ravel = lambda s, order="C": reshape(s, -1, order=order)
    T.flatten = T.ravel  # no copy needed: traced values are immutable
    T.copy = lambda s, order="K": s
    T.clip = lambda s, min=None, max=None, out=None, **kw: clip(  # noqa: A006
        _no_out(s, out, "clip"), min, max, **kw)
    # positions are not differentiable: computed on the value, as a constant index
    T.argmax = lambda s, axis=None, out=None, *, keepdims=False: _arg(
        "argmax", _no_out(s, out, "argmax"), axis, keepdims)
    T.argmin = lambda s, axis=None, out=None, *, keepdims=False: _arg(
        "argmin", _no_out(s, out, "argmin"), axis, keepdims)
    T.mT = property(lambda s: matrix_transpose(s))


def _arg(name, s, axis, keepdims):
    """``argmax``/``argmin`` of a traced value: computed on its value, a constant index."""
    v = concrete(s, name)
    return getattr(_backend.of(v), name)(v, axis=axis, keepdims=keepdims)


def _no_out(s, out, name):
    """Traced values are immutable: numpy's ``out=`` can only be None."""
    if out is not None:
        raise TypeError(f"{name}: out= cannot be used with a traced value (shape "
                        f"{tuple(s.shape)}); use the returned value")
    return s


def _method_axes(axes):
    """``x.transpose()`` / ``x.transpose(None)`` / ``x.transpose((1, 0))`` /
    ``x.transpose(1, 0)``, as numpy's method takes them."""
    if not axes or (len(axes) == 1 and axes[0] is None):
        return None
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        return axes[0]
    return axes


def _iterate(s):
    """Iterate over the first axis, as numpy does (each row is an indexing node)."""
    if not s.shape:
        raise TypeError("iteration over a 0-d traced array")
    return (getitem(s, i) for i in range(s.shape[0]))


def _comparison_operator(fn):
    def op(s, o):
        if o is None or isinstance(o, (str, bytes)):
            return NotImplemented
        return fn(s, o)
    return op


_install_operators()
