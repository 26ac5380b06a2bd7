"""The user namespace: numpy-compatible functions on plain arrays and traced values.

Multilinear functions come from ``multilinear.py`` and ``axes.py`` (lowerings onto einsum);
the array API standard's elementwise functions (arithmetic included) from
``elementwise.py``, its creation functions from ``creation.py``, data types and their
functions from ``dtypes.py``, constants and the inspection API from ``inspection.py``;
non-multilinear reductions from ``reductions.py``, shape and indexing functions from
``structure.py`` (thin wrappers over the primitives of the ``rules/`` table). This module
gives traced values their operators (arithmetic, comparisons, indexing) and a few
numpy-style methods.
"""

from __future__ import annotations

from .. import backend as _backend
from ..core import Tracer, unwrap

# the array API standard (2024.12): elementwise functions, creation functions, data types
# and data type functions, constants, inspection (numpy's names beside the standard's)
from . import creation as _creation
from . import dtypes as _dtypes
from . import elementwise as _elementwise
from . import inspection as _inspection
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
from .creation import (  # noqa: F401  (re-exported)
    arange,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    full,
    full_like,
    linspace,
    meshgrid,
    ones,
    ones_like,
    tril,
    triu,
    zeros,
    zeros_like,
)
from .dtypes import (  # noqa: F401  (re-exported)
    bool,
    can_cast,
    complex64,
    complex128,
    finfo,
    float32,
    float64,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    isdtype,
    result_type,
    uint8,
    uint16,
    uint32,
    uint64,
)
from .elementwise import (  # noqa: F401  (re-exported)
    abs,
    absolute,
    acos,
    acosh,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_invert,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    ceil,
    clip,
    conj,
    conjugate,
    copysign,
    cos,
    cosh,
    divide,
    equal,
    exp,
    expm1,
    floor,
    floor_divide,
    gelu,
    greater,
    greater_equal,
    hypot,
    imag,
    invert,
    isfinite,
    isinf,
    isnan,
    left_shift,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mod,
    negative,
    nextafter,
    not_equal,
    positive,
    pow,
    power,
    real,
    reciprocal,
    relu,
    remainder,
    right_shift,
    round,
    sigmoid,
    sign,
    signbit,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    stop_gradient,
    subtract,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from .inspection import (  # noqa: F401  (re-exported)
    __array_api_version__,
    __array_namespace_info__,
    e,
    inf,
    nan,
    newaxis,
    pi,
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

# isort: split
# ---- statistics, manipulation, searching/sorting/sets, FFT (array API standard, issue 10)
from . import fft  # noqa: F401  (``ea.fft``, the FFT extension)
from .manipulation import (  # noqa: F401  (re-exported)
    broadcast_arrays,
    concat,
    diff,
    flip,
    repeat,
    roll,
    take,
    tile,
    unstack,
)
from .searching import (  # noqa: F401  (re-exported)
    all,
    any,
    argmax,
    argmin,
    argsort,
    count_nonzero,
    nonzero,
    searchsorted,
    sort,
    unique_all,
    unique_counts,
    unique_inverse,
    unique_values,
)
from .statistics import (  # noqa: F401  (re-exported)
    cumprod,
    cumsum,
    cumulative_prod,
    cumulative_sum,
    prod,
    std,
    var,
)

_STATS_MANIP_SEARCH = [
    # statistics.py
    "prod", "cumulative_sum", "cumulative_prod", "cumsum", "cumprod", "var", "std",
    # manipulation.py
    "broadcast_arrays", "concat", "flip", "roll", "repeat", "tile", "unstack", "diff", "take",
    # searching.py
    "argmax", "argmin", "count_nonzero", "nonzero", "searchsorted", "unique_all",
    "unique_counts", "unique_inverse", "unique_values", "argsort", "sort", "all", "any",
]
# ---- end of the issue-10 statistics/manipulation/searching block

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
           "concatenate", "stack", "split", "take_along_axis", "astype",
           *_STATS_MANIP_SEARCH]

# the array API standard's elementwise, creation, data type and inspection names (see above)
__all__ += [name for module in (_elementwise, _creation, _dtypes, _inspection)
            for name in module.__all__ if name not in __all__]



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
    T.__array_ufunc__ = _array_ufunc
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
    v = unwrap(s)
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


def _ufunc_operators():
    """numpy's ufuncs behind Python's operators, by name: what a NumPy array (or numpy
    scalar) calls when it meets a traced value in ``a + x``, ``a @ x``, ``a < x``..."""
    return {"add": add, "subtract": subtract, "multiply": multiply, "true_divide": divide,
            "divide": divide, "matmul": matmul, "power": power, "negative": negative,
            "positive": lambda x: x, "absolute": abs, "less": less,
            "less_equal": less_equal, "greater": greater, "greater_equal": greater_equal,
            "equal": equal, "not_equal": not_equal}


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """NumPy's ufunc protocol on traced values: the operators of NumPy arrays with traced
    values are einsum_ad's; any other NumPy function raises TypeError naming the einsum_ad
    function to call instead (NumPy cannot differentiate, and would see no value)."""
    name = getattr(ufunc, "__name__", str(ufunc))
    fn = _UFUNC_OPERATORS.get(name)
    if method == "__call__" and fn is not None and not kwargs:
        return fn(*inputs)
    if kwargs.get("out") is not None:
        raise TypeError(f"einsum_ad: numpy.{name} with out= (an in-place operation: a += x) "
                        "cannot take a traced value: NumPy arrays cannot hold one; write "
                        "a = a + x instead")
    ours = _NUMPY_NAMES.get(f"{name}.{method}") or _NUMPY_NAMES.get(name, name)
    hint = (f"use einsum_ad.{ours}" if ours in __all__ else
            "use the einsum_ad functions (einsum_ad has no function of this name)")
    what = f"numpy.{name}" + ("" if method == "__call__" else f".{method}")
    raise TypeError(f"einsum_ad: {what} was applied to a traced value (shape "
                    f"{tuple(self.shape)}) inside a differentiated function; NumPy cannot "
                    f"differentiate it: {hint}")


# numpy's ufunc names that einsum_ad spells differently
_NUMPY_NAMES = {"absolute": "abs", "true_divide": "divide", "add.reduce": "sum",
                "multiply.reduce": "prod", "maximum.reduce": "max", "minimum.reduce": "min",
                "add.accumulate": "cumsum", "multiply.accumulate": "cumprod"}


def _comparison_operator(fn):
    def op(s, o):
        if o is None or isinstance(o, (str, bytes)):
            return NotImplemented
        return fn(s, o)
    return op


_UFUNC_OPERATORS = _ufunc_operators()
_install_operators()


def _install_statistics_methods():
    """numpy's methods for the issue-10 functions (their signatures are numpy's, ``self``
    first); ``sort`` is left out, as numpy's sorts in place and traced values are
    immutable."""
    T = Tracer
    T.prod = prod
    T.cumsum = cumsum
    T.cumprod = cumprod
    T.var = var
    T.std = std
    T.all = all
    T.any = any
    T.argsort = argsort
    T.repeat = repeat
    T.take = take
    T.nonzero = nonzero


_install_statistics_methods()
