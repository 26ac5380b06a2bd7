"""Creation functions: the array API standard's (2024.12), with numpy's extra arguments.

Which library makes the array (a creation function has no operand to read it from):

* ``device=`` names it: None and ``"cpu"`` are NumPy's; a device object of another
  library is that library's (a ``torch.device`` makes torch tensors, an
  ``array_api_strict.Device`` array-api-strict arrays; see ``backend.for_device``);
* the ``*_like`` functions make arrays of their argument's library (and device), and so
  does numpy's ``like=`` in the others;
* otherwise NumPy, the default backend.

``dtype=`` is read in that library: its own dtype objects, einsum_ad's (which are NumPy's),
a name such as ``"float32"`` or a Python type (``float``); None is the library's default
(``default_float``, ``default_int``, and for ``full``/``asarray`` the type of the value).

Arrays made from nothing (``zeros``, ``arange``, ``eye``, ...) are constants. A traced
value passed where a value goes is differentiated: ``asarray`` and ``full``/``full_like``
of a traced fill value, ``linspace`` between traced end points, ``meshgrid`` of traced
vectors, ``tril``/``triu`` of a traced matrix (a selection: the derivative is masked the
same way). ``zeros_like`` and its kin read only a traced argument's shape and dtype.
"""

from __future__ import annotations

import builtins
import operator

from .. import backend as _backend
from .. import rules
from ..core import Tracer, unwrap
from ..rules import broadcast_to_p, const, reshape_p, where_p
from ._args import _broadcast, _check_operand, _finish, _operands

_of, _kind = _backend.of, _backend.kind

__all__ = ["arange", "asarray", "empty", "empty_like", "eye", "from_dlpack", "full",
           "full_like", "linspace", "meshgrid", "ones", "ones_like", "tril", "triu", "zeros",
           "zeros_like"]


# ========================================================================== the boundary


def _library(fname, device=None, like=None):
    """The backend that makes the array: ``like``'s library when given (``device`` must
    then be one of its devices), else the library of ``device`` (None: NumPy)."""
    if like is None:
        return _backend.for_device(device, fname)
    v = unwrap(like)
    bk = _of(v)
    if bk is None:
        bk = _backend.default()
    if device is not None and _backend.for_device(device, fname) is not bk:
        raise ValueError(f"{fname}: device {device!r} is not a device of like's library "
                         f"{bk.name}")
    return bk


def _device(bk, device, like=None):
    """The device to pass to ``bk``'s creation functions."""
    if device is not None:
        return device
    if like is not None:
        return bk.device(unwrap(like))
    return None


def _dtype(bk, dtype, default):
    return default if dtype is None else bk.dtype(dtype)


def _shape(shape, fname):
    """``shape`` (an int or a sequence of ints) as a tuple of non-negative ints."""
    seq = (shape,) if not isinstance(shape, (tuple, list)) else shape
    try:
        out = tuple(operator.index(d) for d in seq)
    except TypeError:
        raise TypeError(f"{fname}: shape must be an int or a tuple of ints, "
                        f"got {shape!r}") from None
    if builtins.any(d < 0 for d in out):
        raise ValueError(f"{fname}: negative dimensions are not allowed, got shape {out}")
    return out


def _order(bk, x, order, fname, like=None):
    """numpy's memory ``order`` ("C", "F"; "K"/"A" follow ``like``) on a fresh array."""
    if order in (None, "C"):
        return x
    if order not in ("F", "K", "A"):
        raise ValueError(f"{fname}: order must be one of 'C', 'F', 'A' or 'K', got {order!r}")
    if order == "F" or (like is not None and not isinstance(like, Tracer)
                        and _of(like) is bk and bk.is_fortran(like)):
        return bk.with_order(x, "F")
    return x


def _scalar_dtype(bk, value):
    """The standard's dtype of a Python scalar fill value in ``bk``."""
    if isinstance(value, builtins.bool):
        return bk.bool
    if isinstance(value, int):
        return bk.default_int
    if isinstance(value, float):
        return bk.default_float
    if isinstance(value, complex):
        return bk.complex_dtype(bk.default_float)
    return None


# ================================================================ filled with a value


_ZEROS, _ONES, _EMPTY = object(), object(), object()  # what zeros, ones, empty fill with


def _filled(bk, shape, value, dtype, device):
    """``shape`` filled with plain ``value`` (or ``_ZEROS``, ``_ONES``, ``_EMPTY``) on
    ``bk`` (a user's value always goes through ``full``: ``-0.0`` keeps its sign)."""
    if value is _EMPTY:
        return bk.empty(shape, dtype=dtype, device=device)
    if value is _ZEROS:
        return bk.zeros(shape, dtype=dtype, device=device)
    if value is _ONES:
        return bk.ones(shape, dtype=dtype, device=device)
    return bk.full(shape, value, dtype=dtype, device=device)


def zeros(shape, dtype=None, order="C", *, device=None, like=None):
    """An array of ``shape`` filled with zeros.

    Args:
        shape: an int or a tuple of ints.
        dtype: the dtype (None: the library's default floating dtype, float64 for NumPy).
        order: numpy's memory order, ``"C"`` or ``"F"``.
        device: the device, whose library makes the array (None: NumPy).
        like: numpy's ``like=``: an array whose library (and device) makes the array.

    Returns:
        An array (a constant: it depends on no traced value).

    Examples:
        >>> import einsum_ad as ea
        >>> ea.zeros((2, 3), dtype=ea.int32)
        array([[0, 0, 0],
               [0, 0, 0]], dtype=int32)
    """
    return _make("zeros", shape, _ZEROS, dtype, order, device, like)


def ones(shape, dtype=None, order="C", *, device=None, like=None):
    """An array of ``shape`` filled with ones (arguments as :func:`zeros`).

    Examples:
        >>> import einsum_ad as ea
        >>> ea.ones(3)
        array([1., 1., 1.])
    """
    return _make("ones", shape, _ONES, dtype, order, device, like)


def empty(shape, dtype=None, order="C", *, device=None, like=None):
    """An uninitialised array of ``shape`` (arguments as :func:`zeros`): its values are
    whatever the memory held.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.empty((2, 0)).shape
        (2, 0)
    """
    return _make("empty", shape, _EMPTY, dtype, order, device, like)


def _make(fname, shape, value, dtype, order, device, like):
    bk = _library(fname, device, like)
    shape = _shape(shape, fname)
    out = _filled(bk, shape, value, _dtype(bk, dtype, bk.default_float),
                  _device(bk, device, like))
    return _order(bk, out, order, fname)


def full(shape, fill_value, dtype=None, order="C", *, device=None, like=None):
    """An array of ``shape`` filled with ``fill_value``.

    Args:
        shape: an int or a tuple of ints.
        fill_value: a Python scalar, a 0-d array (or one that broadcasts to ``shape``, as
            in numpy), or a traced value: the result is then traced too (a broadcast of it,
            differentiable).
        dtype: None infers it from ``fill_value``: bool, the default integer, floating or
            complex dtype for a Python bool, int, float or complex; an array's own dtype.
        order, device, like: as in :func:`zeros`. Without ``device`` and ``like``, an
            array ``fill_value`` of a library makes the result in that library.

    Returns:
        An array, or a traced value for a traced ``fill_value``.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.full((2,), 7), ea.full(2, 0.5, dtype=ea.float32)
        (array([7, 7]), array([0.5, 0.5], dtype=float32))
        >>> float(ea.grad(lambda v: ea.sum(ea.full((2, 3), v)))(1.0))
        6.0
    """
    shape = _shape(shape, "full")
    if isinstance(fill_value, Tracer) or (device is None and like is None
                                          and _of(fill_value) is not None):
        return _full_of_array("full", shape, fill_value, dtype, order, device, like)
    bk = _library("full", device, like)
    if _scalar_dtype(bk, fill_value) is None and _of(fill_value) is None:
        raise TypeError(f"full: fill_value must be a number or an array, "
                        f"got {type(fill_value).__name__}")
    if _of(fill_value) is not None:  # a NumPy scalar moved to another library
        fill_value = _backend.to_array(fill_value, 0, "full", "fill_value", bk)
        return _full_of_array("full", shape, fill_value, dtype, order, device, like)
    dt = _dtype(bk, dtype, _scalar_dtype(bk, fill_value))
    out = bk.full(shape, fill_value, dtype=dt, device=_device(bk, device, like))
    return _order(bk, out, order, "full")


def _full_of_array(fname, shape, value, dtype, order, device, like):
    """``value`` (an array or traced value) broadcast to ``shape`` and cast to ``dtype``."""
    v = _check_operand(value, 1, fname, "fill_value")
    bk = _of(unwrap(v))
    if (device is not None or like is not None) and _library(fname, device, like) is not bk:
        raise ValueError(f"{fname}: fill_value is a {bk.name} array, but device/like name "
                         "another library")
    if dtype is not None:
        dt = bk.dtype(dtype)
        if dt != v.dtype:
            v = rules.astype_p(v, dtype=dt)
    try:
        out = broadcast_to_p(v, shape=shape)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(f"{fname}: fill_value of shape {tuple(v.shape)} does not "
                         f"broadcast to shape {shape}") from exc
    if not isinstance(out, Tracer):
        out = bk.copy(out)  # a writable array of its own, not a broadcast view
        out = _order(bk, out, order, fname)
    return out


# ============================================================================== *_like


def _like_call(fname, x, value, dtype, order, shape, device):
    """The common body of ``zeros_like``, ``ones_like``, ``empty_like`` and ``full_like``:
    ``x``'s library, device, dtype and shape unless given."""
    v = unwrap(_check_operand(x, 0, fname))
    bk = _of(v)
    if device is not None and _backend.for_device(device, fname) is not bk:
        bk = _backend.for_device(device, fname)  # another library: x's dtype, by name
        dt = _dtype(bk, dtype, bk.dtype(_backend.dtype_name(v.dtype)))
    else:
        dt = _dtype(bk, dtype, v.dtype)
        device = bk.device(v) if device is None else device
    shape = tuple(v.shape) if shape is None else _shape(shape, fname)
    if isinstance(value, Tracer) or (_of(value) is not None and len(value.shape) != 0):
        return _full_of_array(fname, shape, value, dt, order, None, v)
    if _of(value) is not None:
        value = value.item()
    if not builtins.any(value is m for m in (_ZEROS, _ONES, _EMPTY)) \
            and _scalar_dtype(bk, value) is None:
        raise TypeError(f"{fname}: fill_value must be a number or an array, "
                        f"got {type(value).__name__}")
    out = _filled(bk, shape, value, dt, device)
    return _order(bk, out, order, fname, like=v if _of(v) is bk else None)


def zeros_like(x, /, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros with the shape, dtype, library and device of ``x`` (each may be overridden;
    ``device`` of another library makes the array there, with ``x``'s dtype by name).

    Args:
        x: an array or a traced value (only its shape and dtype are read: the result is
            a constant).
        dtype, shape, device: overrides (numpy's ``order`` and ``subok`` are accepted;
            ``order="K"`` keeps a Fortran-ordered NumPy ``x``'s layout).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.zeros_like(np.ones((2, 2), dtype=np.int8))
        array([[0, 0],
               [0, 0]], dtype=int8)
    """
    return _like_call("zeros_like", x, _ZEROS, dtype, order, shape, device)


def ones_like(x, /, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones with the shape, dtype, library and device of ``x`` (as :func:`zeros_like`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.ones_like(np.zeros(2))
        array([1., 1.])
    """
    return _like_call("ones_like", x, _ONES, dtype, order, shape, device)


def empty_like(x, /, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """An uninitialised array like ``x`` (as :func:`zeros_like`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.empty_like(np.zeros((2, 3), dtype=np.float32)).dtype
        dtype('float32')
    """
    return _like_call("empty_like", x, _EMPTY, dtype, order, shape, device)


def full_like(x, /, fill_value, dtype=None, order="K", subok=True, shape=None, *,
              device=None):
    """``fill_value`` with the shape, dtype, library and device of ``x`` (as
    :func:`zeros_like`; a Python float fill value in an integer ``x``'s dtype is cast,
    as numpy does). A traced ``fill_value`` gives a traced result (differentiable).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.full_like(np.zeros(3, dtype=np.int64), 2.7)
        array([2, 2, 2])
    """
    return _like_call("full_like", x, fill_value, dtype, order, shape, device)


# ============================================================================= ranges


def arange(start, /, stop=None, step=1, dtype=None, *, device=None, like=None):
    """Evenly spaced values in ``[start, stop)``, ``step`` apart (``arange(n)``: ``0 ...
    n-1``).

    Args:
        start: the first value (the stop, from 0, when ``stop`` is None).
        stop, step: the end (excluded) and the spacing (not 0).
        dtype: None infers it: the default integer dtype when every argument is an int,
            else the default floating dtype.
        device, like: the library (see the module's docstring).

    Returns:
        A 1-D array of ``ceil((stop - start) / step)`` elements (a constant).

    Examples:
        >>> import einsum_ad as ea
        >>> ea.arange(4), ea.arange(1, 2, 0.25)
        (array([0, 1, 2, 3]), array([1.  , 1.25, 1.5 , 1.75]))
    """
    for name, v in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(v, Tracer):
            raise TypeError(f"arange: {name} is a traced value; the length of the result "
                            "depends on it, so it cannot be differentiated (use "
                            "stop_gradient, or linspace for traced end points)")
    if step == 0:
        raise ValueError("arange: step must not be zero")
    bk = _library("arange", device, like)
    if dtype is None and bk is not _backend.default():
        ints = builtins.all(isinstance(v, int) or (_of(v) is not None and _kind(v.dtype) in
                                                    "biu") for v in (start, stop, step)
                            if v is not None)
        dtype = bk.default_int if ints else bk.default_float
    dt = None if dtype is None else bk.dtype(dtype)
    if stop is None:
        args = (start,) if isinstance(step, int) and step == 1 else (0, start, step)
    else:
        args = (start, stop, step)
    return bk.arange(*args, dtype=dt, device=_device(bk, device, like))


def linspace(start, stop, /, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None, like=None):
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless
    ``endpoint=False``).

    Args:
        start, stop: the end points: Python numbers, arrays (numpy's vectorised form: the
            samples run along ``axis``) or traced values, whose derivative is then exact
            (``1 - t`` and ``t`` for the sample at fraction ``t``).
        num: the number of samples (a non-negative int).
        endpoint: whether ``stop`` is the last sample.
        retstep: numpy's: also return the spacing.
        dtype: None: the default floating dtype (complex for complex end points; an end
            point array's floating dtype).
        axis: numpy's: where the samples' axis goes for array end points.
        device, like: the library (see the module's docstring).

    Returns:
        An array (traced when an end point is), or ``(samples, step)`` with ``retstep``.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.linspace(0, 1, 5)
        array([0.  , 0.25, 0.5 , 0.75, 1.  ])
        >>> ea.grad(lambda b: ea.sum(ea.linspace(0.0, b, 5)))(2.0)  # 0 + 1/4 + ... + 1
        np.float64(2.5)
    """
    try:
        num = operator.index(num)
    except TypeError:
        raise TypeError(f"linspace: num must be an integer, got {num!r}") from None
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    if isinstance(start, Tracer) or isinstance(stop, Tracer):
        return _linspace_traced(start, stop, num, endpoint, retstep, dtype, axis)
    arrays = [v for v in (start, stop) if _of(v) is not None and len(v.shape)]
    if device is None and like is None and arrays:
        like = arrays[0]
    bk = _library("linspace", device, like)
    dev = _device(bk, device, like)
    if bk is _backend.default():
        return bk.linspace(start, stop, num, endpoint=endpoint, retstep=retstep,
                           dtype=None if dtype is None else bk.dtype(dtype), axis=axis,
                           device=dev)
    if arrays or axis != 0:
        (a, b), _ = _operands([start, stop], "linspace")
        return _linspace_traced(a, b, num, endpoint, retstep, dtype, axis)
    if dtype is None:
        complex_ends = builtins.any(isinstance(v, complex) or (
            _of(v) is not None and _kind(v.dtype) == "c") for v in (start, stop))
        dtype = bk.complex_dtype(bk.default_float) if complex_ends else bk.default_float
    dt = bk.dtype(dtype)
    out = bk.linspace(start, stop, num, dtype=dt, device=dev, endpoint=endpoint)
    if not retstep:
        return out
    div = num - 1 if endpoint else num
    step = (stop - start) / div if div > 0 else float("nan")
    return out, step


def _linspace_traced(start, stop, num, endpoint, retstep, dtype, axis):
    """linspace as ``start + t (stop - start)`` with ``t = arange(num) / div`` (a constant),
    the last sample ``stop`` itself when ``endpoint``: differentiable in both end points."""
    (a, b), bk = _operands([start, stop], "linspace")
    dt = None
    if dtype is not None:
        dt = bk.dtype(dtype)
    floats = [d for d in (a.dtype, b.dtype) if _kind(d) in "fc"]
    if dt is not None and _kind(dt) in "fc":
        inexact = dt
    else:  # the end points' floating dtype (numpy: integers sample in float64)
        inexact = bk.result_type(*floats) if floats else bk.default_float
    if a.dtype != inexact:
        a = rules.astype_p(a, dtype=inexact)
    if b.dtype != inexact:
        b = rules.astype_p(b, dtype=inexact)
    shape = _broadcast("linspace", tuple(a.shape), tuple(b.shape))
    div = num - 1 if endpoint else num
    real = bk.real_dtype(inexact)
    dev = bk.device(unwrap(a))
    idx = bk.arange(num, dtype=real, device=dev)
    t = bk.divide(idx, bk.scalar(div, real, dev)) if div > 0 else idx
    t = bk.reshape(t, (num,) + (1,) * len(shape))
    delta = rules.sub_p(b, a)
    out = rules.add_p(a, rules.mul(t, delta))
    if endpoint and num > 1:
        last = bk.reshape(bk.equal(bk.arange(num, device=dev), num - 1),
                          (num,) + (1,) * len(shape))
        out = where_p(last, b, out)
    out = broadcast_to_p(out, shape=(num,) + shape)
    axis = operator.index(axis)
    if axis < 0:
        axis += len(shape) + 1
    if not 0 <= axis <= len(shape):
        raise _backend.default().xp.exceptions.AxisError(axis, len(shape) + 1)
    if axis != 0:
        from .axes import moveaxis
        out = moveaxis(out, 0, axis)
    if dt is not None and dt != out.dtype:
        out = rules.astype_p(out, dtype=dt)
    if not retstep:
        return _finish(out)
    step = rules.div_p(delta, const(div, delta)) if div > 0 else \
        rules.mul(delta, const(float("nan"), delta))
    return _finish(out), _finish(step)


def eye(n_rows, n_cols=None, /, k=0, dtype=None, order="C", *, device=None, like=None):
    """A 2-D array with ones on the ``k``-th diagonal and zeros elsewhere.

    Args:
        n_rows, n_cols: the shape (``n_cols`` defaults to ``n_rows``).
        k: the diagonal's offset (positive: above the main diagonal).
        dtype, order, device, like: as in :func:`zeros`.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.eye(2, 3, k=1, dtype=int)
        array([[0, 1, 0],
               [0, 0, 1]])
    """
    bk = _library("eye", device, like)
    try:
        n_rows, k = operator.index(n_rows), operator.index(k)
        n_cols = n_rows if n_cols is None else operator.index(n_cols)
    except TypeError:
        raise TypeError(f"eye: n_rows, n_cols and k must be integers, got {n_rows!r}, "
                        f"{n_cols!r}, {k!r}") from None
    if n_rows < 0 or n_cols < 0:
        raise ValueError(f"eye: negative dimensions are not allowed, got ({n_rows}, "
                         f"{n_cols})")
    out = bk.eye(n_rows, n_cols, k=k,
                 dtype=_dtype(bk, dtype, bk.default_float), device=_device(bk, device, like))
    return _order(bk, out, order, "eye")


# ===================================================================== grids, triangles


def meshgrid(*arrays, indexing="xy", sparse=False, copy=True):
    """Coordinate arrays from 1-D coordinate vectors: ``N`` arrays of shape ``(len(x2),
    len(x1), len(x3), ...)`` for ``indexing="xy"`` (Cartesian), ``(len(x1), len(x2),
    ...)`` for ``"ij"`` (matrix).

    Args:
        arrays: 1-D arrays (numpy flattens others) or traced values, of one library.
        indexing: ``"xy"`` or ``"ij"``.
        sparse: numpy's: return broadcastable arrays with size-1 axes instead of full ones.
        copy: numpy's: False returns read-only broadcast views of plain arrays.

    Returns:
        A list of arrays, as the standard says (numpy 2 returns a tuple). Traced inputs
        give traced outputs: each is a reshape and broadcast of one input, differentiable.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> X, Y = ea.meshgrid(np.array([1, 2, 3]), np.array([4, 5]))
        >>> X
        array([[1, 2, 3],
               [1, 2, 3]])
        >>> Y
        array([[4, 4, 4],
               [5, 5, 5]])
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    if not arrays:
        return []
    xs, bk = _operands(list(arrays), "meshgrid", "array")
    n = len(xs)
    sizes = [_size(x) for x in xs]
    out_shape = list(sizes)
    if indexing == "xy" and n > 1:
        out_shape[0], out_shape[1] = out_shape[1], out_shape[0]
    result = []
    for i, x in enumerate(xs):
        pos = i
        if indexing == "xy" and n > 1 and i < 2:
            pos = 1 - i
        shape = [1] * n
        shape[pos] = sizes[i]
        y = reshape_p(x, shape=tuple(shape)) if tuple(x.shape) != tuple(shape) else x
        if not sparse:
            y = broadcast_to_p(y, shape=tuple(out_shape))
        if copy and not isinstance(y, Tracer):
            y = bk.copy(y)
        result.append(y)
    return result


def _size(x):
    n = 1
    for d in x.shape:
        n *= d
    return n


def _triangle(x, k, fname, lower):
    x = _check_operand(x, 0, fname)
    if isinstance(k, builtins.bool) or not hasattr(k, "__index__"):
        raise TypeError(f"{fname}: k must be an integer, got {k!r}")
    k = operator.index(k)
    if x.ndim == 0:
        raise ValueError(f"{fname}: the input must have at least 1 dimension, got a 0-d "
                         "array")
    if x.ndim == 1:  # numpy: a vector is read as the rows of a square matrix
        x = broadcast_to_p(x, shape=(x.shape[0], x.shape[0]))
    v = unwrap(x)
    bk = _of(v)
    m, n = x.shape[-2], x.shape[-1]
    dev = bk.device(v)
    rows = bk.reshape(bk.arange(m, device=dev), (m, 1))
    cols = bk.reshape(bk.arange(n, device=dev), (1, n))
    offset = bk.subtract(cols, rows)  # j - i: 0 on the diagonal, k on the k-th
    kk = bk.scalar(k, offset.dtype, dev)
    keep = bk.less_equal(offset, kk) if lower else bk.greater_equal(offset, kk)
    return _finish(where_p(keep, x, const(0, x)))


def tril(x, /, k=0):
    """The lower triangle of each matrix of ``x`` (the last two axes): the elements on and
    below the ``k``-th diagonal, zeros above (numpy's name for ``x`` is ``m``; a 1-D ``x``
    is read as the rows of a square matrix, as numpy does).

    A selection: the derivative is the cotangent (or tangent) masked the same way.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.tril(np.arange(1, 10).reshape(3, 3), k=-1)
        array([[0, 0, 0],
               [4, 0, 0],
               [7, 8, 0]])
    """
    return _triangle(x, k, "tril", lower=True)


def triu(x, /, k=0):
    """The upper triangle of each matrix of ``x``: the elements on and above the ``k``-th
    diagonal, zeros below (as :func:`tril`).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.triu(np.ones((2, 3)), k=1)
        array([[0., 1., 1.],
               [0., 0., 1.]])
    """
    return _triangle(x, k, "triu", lower=False)


# ====================================================================== from other data


def asarray(obj, /, dtype=None, order=None, *, device=None, copy=None, like=None):
    """``obj`` as an array: the standard's ``asarray(obj, /, *, dtype, device, copy)``
    with numpy's ``order`` and ``like``.

    Args:
        obj: an array of any library, a traced value, a Python scalar, a (nested)
            sequence, or an object with the buffer protocol.
        dtype: the dtype (None: ``obj``'s, or inferred from Python values: bool, the
            default integer, floating or complex dtype).
        device: the device, whose library holds the result; None keeps an array's library
            and device and puts Python values on NumPy.
        copy: True always copies; False never does (ValueError when a copy is needed: a
            change of dtype, library or device, a Python sequence); None copies only when
            needed.
        order: numpy's memory order (NumPy only).
        like: numpy's ``like=``: Python values become arrays of its library.

    Returns:
        An array; a traced ``obj`` stays traced (a ``dtype`` casts it, differentiably; it
        cannot change library).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> x = np.arange(3.0)
        >>> ea.asarray(x) is x, ea.asarray(x, copy=True) is x
        (True, False)
        >>> ea.asarray([1, 2], dtype=ea.float32)
        array([1., 2.], dtype=float32)
    """
    if isinstance(obj, Tracer):
        bk = _of(unwrap(obj))
        if (device is not None or like is not None) and _library(
                "asarray", device, like) is not bk:
            raise TypeError(f"asarray: a traced {bk.name} value cannot move to another "
                            "library (its derivative would not follow); convert the input")
        if dtype is not None and bk.dtype(dtype) != obj.dtype:
            if copy is False:
                raise ValueError("asarray: copy=False, but changing the dtype needs a copy")
            return rules.astype_p(obj, dtype=bk.dtype(dtype))
        return obj
    src = _of(obj)
    if src is not None and device is None and like is None:
        bk = src
    else:
        bk = _library("asarray", device, like)
    dt = None if dtype is None else bk.dtype(dtype)
    if src is bk and copy is not True and order is None and len(getattr(obj, "shape", (0,))) \
            and (dt is None or dt == obj.dtype) \
            and (device is None or device == bk.device(obj)):
        return obj  # nothing to do: the array itself, as numpy's asarray returns it
    if src is not None and src is not bk:  # another library: through the host
        if copy is False:
            raise ValueError(f"asarray: copy=False, but moving a {src.name} array to "
                             f"{bk.name} needs a copy")
        obj = src.to_numpy(obj)
        copy = None
    kwargs = {} if order is None or bk is not _backend.default() else {"order": order}
    try:
        out = bk.asarray(obj, dtype=dt, device=device, copy=copy, **kwargs)
    except TypeError as exc:
        raise TypeError(f"asarray: {type(obj).__name__} cannot be read as an array: "
                        f"{exc}") from None
    if _kind(out.dtype) not in "biufc":
        raise TypeError(f"asarray: the data read as dtype {out.dtype}; einsum_ad arrays are "
                        "numeric (bool, integer, floating or complex)")
    return out


def from_dlpack(x, /, *, device=None, copy=None):
    """An array of einsum_ad's libraries from any object with ``__dlpack__`` (a tensor of
    another library), through the DLPack protocol: sharing memory where possible.

    Args:
        x: the object (not a traced value: it has no memory to share).
        device: the target device, whose library makes the result (None: NumPy).
        copy: as in :func:`asarray` (None: a copy only when needed).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.from_dlpack(np.arange(3))
        array([0, 1, 2])
    """
    if isinstance(x, Tracer):
        raise TypeError("from_dlpack: a traced value has no DLPack capsule; use asarray")
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(x).__name__} has no __dlpack__ method (not an "
                        "array of a library that exports DLPack); use asarray")
    bk = _backend.for_device(device, "from_dlpack")
    kwargs = {k: v for k, v in (("device", device), ("copy", copy)) if v is not None}
    return bk.from_dlpack(x, **kwargs)
