"""Shape and structure: reshape, broadcasting, axes, joining, splitting, indexing.

numpy-compatible wrappers (same names, signatures and errors) over the structural
primitives of ``rules.py`` and ``rules_structural.py``. ``expand_dims``, ``squeeze`` and
``stack`` are reshapes (and a concatenation); ``split`` and ``take_along_axis`` are
indexing; none needs a rule of its own.
"""

from __future__ import annotations

import operator
from math import prod

from .. import backend as _backend
from .. import rules
from ..core import Tracer, unwrap
from ..rules import concatenate_p, getitem_p
from ._args import _backend_of, _check_operand, _finish, _operands, normalize_axes, store_out
from .axes import transpose

_of, _kind = _backend.of, _backend.kind

__all__ = ["reshape", "broadcast_to", "expand_dims", "squeeze", "concatenate", "stack",
           "split", "getitem", "take_along_axis", "astype", "normalize_index"]


def _int_tuple(shape, fname, what="shape"):
    shape = (shape,) if not isinstance(shape, (tuple, list)) else shape
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{fname}: {what} must be an int or a tuple of ints, "
                        f"got {shape!r}") from None


def reshape(a, /, shape, order="C", *, copy=None):
    """Give ``a`` a new shape with the same elements, read and written in ``order``.

    One entry of ``shape`` may be -1: it is inferred from the size. ``order="F"``
    (column-major) is the row-major reshape between two axis reversals (two einsum
    transposes around one reshape node); ``"A"`` is ``"F"`` for a Fortran-contiguous plain
    array and ``"C"`` otherwise, as in numpy.

    ``copy`` (the standard's and numpy 2's): None copies only when needed; True always
    returns a new array; False returns a view or raises ValueError where the memory
    layout allows none. Traced values are immutable: ``copy`` changes nothing for them.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.reshape(np.arange(6), (-1, 3))
        array([[0, 1, 2],
               [3, 4, 5]])
    """
    x = _check_operand(a, 0, "reshape")
    if order not in ("C", "F", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got order={order!r}")
    if order == "A":
        order = "F" if not isinstance(x, Tracer) and _of(x).is_fortran(x) else "C"
    shape = list(_int_tuple(shape, "reshape"))
    size = prod(x.shape)
    if shape.count(-1) > 1:
        raise ValueError(f"reshape: can only specify one unknown dimension, got {tuple(shape)}")
    if any(d < -1 for d in shape):
        raise ValueError(f"reshape: negative dimension in {tuple(shape)}")
    known = prod(d for d in shape if d != -1)
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"reshape: cannot reshape an array of size {size} (shape "
                             f"{tuple(x.shape)}) into shape {tuple(shape)}")
        shape[shape.index(-1)] = size // known
    elif known != size:
        raise ValueError(f"reshape: cannot reshape an array of size {size} (shape "
                         f"{tuple(x.shape)}) into shape {tuple(shape)}")
    if copy not in (None, True, False):
        raise TypeError(f"reshape: copy must be None, True or False, got {copy!r}")
    if copy is not None and not isinstance(x, Tracer):
        bk = _of(x)
        if order == "C":
            try:
                return _finish(bk.reshape_copy(x, tuple(shape), copy))
            except ValueError:
                raise ValueError(f"reshape: an array of shape {tuple(x.shape)} and this "
                                 f"memory layout cannot be viewed as shape {tuple(shape)} "
                                 "without copying (copy=False)") from None
        res = transpose(rules.reshape_p(transpose(x), shape=tuple(reversed(shape))))
        shares = bk.owner(res) is not None and bk.owner(res) == bk.owner(x)
        if copy and shares:
            return bk.copy(res)
        if not copy and not shares:
            raise ValueError(f"reshape: shape {tuple(x.shape)} cannot be read in order "
                             f"{order!r} as {tuple(shape)} without copying (copy=False)")
        return res
    if order == "F":  # column-major: reverse the axes, reshape row-major, reverse back
        return transpose(rules.reshape_p(transpose(x), shape=tuple(reversed(shape))))
    return _finish(rules.reshape_p(x, shape=tuple(shape)))


def broadcast_to(a, shape):
    """``a`` broadcast to ``shape`` by numpy's rules (size-1 and missing leading axes).

    Its derivative sums over the broadcast axes (in the backward pass's one ``fit``).
    """
    x = _check_operand(a, 0, "broadcast_to")
    shape = _int_tuple(shape, "broadcast_to")
    if any(d < 0 for d in shape):
        raise ValueError(f"broadcast_to: negative dimension in {shape}")
    lead = len(shape) - x.ndim
    if lead < 0 or any(d not in (1, shape[lead + i]) for i, d in enumerate(x.shape)):
        raise ValueError(f"broadcast_to: an operand of shape {tuple(x.shape)} cannot be "
                         f"broadcast to shape {shape}")
    return _finish(rules.broadcast_to_p(x, shape=shape))


def expand_dims(a, /, axis=0):
    """Insert size-1 axes at the positions ``axis`` (an int or a tuple; the standard's
    default 0) of the result."""
    x = _check_operand(a, 0, "expand_dims")
    n = len(axis) if isinstance(axis, (tuple, list)) else 1
    axes = normalize_axes(axis, x.ndim + n, "expand_dims")
    dims = iter(x.shape)
    shape = tuple(1 if i in axes else next(dims) for i in range(x.ndim + n))
    return _finish(rules.reshape_p(x, shape=shape))


def squeeze(a, axis=None):
    """Remove size-1 axes: those in ``axis``, or all of them when ``axis`` is None."""
    x = _check_operand(a, 0, "squeeze")
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze")
        for ax in axes:
            if x.shape[ax] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {ax} of size {x.shape[ax]} "
                                 f"(shape {tuple(x.shape)}); only size-1 axes can be removed")
    shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
    return _finish(rules.reshape_p(x, shape=shape))


def _sequence(arrays, fname):
    """A sequence of arrays of one library (TypeError for one array or a non-sequence)."""
    if isinstance(arrays, Tracer) or _of(arrays) is not None \
            or not hasattr(arrays, "__iter__"):
        raise TypeError(f"{fname}: expected a sequence of arrays, got {type(arrays).__name__}")
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"{fname}: need at least one array")
    return _operands(arrays, fname, "array")[0]


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join arrays along an existing axis (None: flatten them first), with numpy's signature.

    ``dtype`` casts every array first (one astype node each), checked with numpy's
    ``casting`` rule (TypeError when not allowed); ``out`` (plain arrays only) receives the
    result and is returned.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.concatenate([np.zeros(2), np.ones(1)])
        array([0., 0., 1.])
    """
    xs = _sequence(arrays, "concatenate")
    if out is not None and dtype is not None:
        raise TypeError("concatenate: give out or dtype, not both (as numpy)")
    if dtype is not None:
        bk = _backend_of(xs[0])
        dtype = bk.dtype(dtype)
        for k, x in enumerate(xs):
            if not bk.can_cast(x.dtype, dtype, casting=casting):
                raise TypeError(f"concatenate: cannot cast array {k} from {x.dtype} to "
                                f"{dtype} under the rule {casting!r}")
        xs = [x if x.dtype == dtype else rules.astype_p(x, dtype=dtype) for x in xs]
    if axis is None:
        xs = [rules.reshape_p(x, shape=(prod(x.shape),)) for x in xs]
        axis = 0
    if xs[0].ndim == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    (ax,) = normalize_axes(axis, xs[0].ndim, "concatenate")
    for k, x in enumerate(xs):
        if x.ndim != xs[0].ndim:
            raise ValueError(f"concatenate: array 0 has {xs[0].ndim} dimension(s) but array "
                             f"{k} has {x.ndim}")
        if any(d != e for i, (d, e) in enumerate(zip(x.shape, xs[0].shape)) if i != ax):
            raise ValueError(f"concatenate: array {k} has shape {tuple(x.shape)}, which "
                             f"differs from array 0's {tuple(xs[0].shape)} off axis {ax}")
    return store_out(concatenate_p(*xs, axis=ax), out, "concatenate")


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Join same-shaped arrays along a new axis ``axis`` of the result (``out``, ``dtype``
    and ``casting`` as in :func:`concatenate`)."""
    xs = _sequence(arrays, "stack")
    for k, x in enumerate(xs):
        if tuple(x.shape) != tuple(xs[0].shape):
            raise ValueError(f"stack: all arrays must have the same shape; array 0 has "
                             f"{tuple(xs[0].shape)} and array {k} has {tuple(x.shape)}")
    (ax,) = normalize_axes(axis, xs[0].ndim + 1, "stack")
    return concatenate([expand_dims(x, ax) for x in xs], axis=ax, out=out, dtype=dtype,
                       casting=casting)


def split(ary, indices_or_sections, axis=0):
    """Split ``ary`` along ``axis`` into equal sections (an int) or at the given indices.

    Returns a list of arrays (traced values), each a slice of ``ary``.
    """
    x = _check_operand(ary, 0, "split")
    (ax,) = normalize_axes(axis, x.ndim, "split")
    n = x.shape[ax]
    if isinstance(indices_or_sections, (tuple, list)) or _of(indices_or_sections) is not None \
            and len(indices_or_sections.shape) == 1:
        cuts = [operator.index(i) for i in indices_or_sections]
    else:
        sections = operator.index(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ValueError(f"split: an axis of size {n} cannot be split into {sections} "
                             "equal sections")
        cuts = [n // sections * k for k in range(1, sections)]
    bounds = zip([0] + cuts, cuts + [n])
    lead = (slice(None),) * ax
    return [_finish(getitem_p(x, index=lead + (slice(lo, hi), Ellipsis))) for lo, hi in bounds]


def _is_mask(k) -> bool:
    """Whether an index entry is a boolean array (of any library)."""
    return _of(k) is not None and _kind(k.dtype) == "b"


def _consumed(k) -> int:
    """How many axes of the indexed array an index entry reads (Ellipsis: none here)."""
    if k is None or k is Ellipsis:
        return 0
    if _is_mask(k):
        return len(k.shape)
    return 1


def _index_array(k, bk, like=None):
    """An index entry that is no int, slice, None or Ellipsis, as an array of ``bk``: a
    list or a NumPy array is converted (onto ``like``'s device); a traced array is used by
    its value (an index has no derivative)."""
    v = unwrap(k)
    b = _of(v)
    if b is None:
        try:
            v = bk.asarray(v) if like is None else bk.asarray(v, device=bk.device(like))
        except (TypeError, ValueError) as exc:
            raise IndexError(f"indexing: {type(k).__name__} is not a valid index: {exc}") \
                from None
    elif b is not bk:
        if b is not _backend.default():
            raise TypeError(f"indexing: an index array from {b.name} cannot index a "
                            f"{bk.name} array")
        v = bk.from_numpy(v, like=like)
    return v


def normalize_index(key, shape, bk=None, like=None) -> tuple:
    """A numpy index into an array of ``shape`` (of backend ``bk``, default NumPy), as a
    tuple of slices, ints, None, Ellipsis and integer arrays of ``bk`` (on the device of
    ``like``, the indexed array, when given).

    Boolean arrays become their ``nonzero()`` integer arrays (numpy's own definition), after
    checking their shape against the axes they cover; traced integer or boolean arrays are
    used by value (an index has no derivative). A boolean mask decides the result's shape
    by its values: on a lazy backend (Dask) a mask of that backend is computed at this
    point (a NumPy mask is read on the host, and its integer arrays converted).
    """
    bk = _backend.default() if bk is None else bk
    key = key if isinstance(key, tuple) else (key,)
    entries = []
    for k in key:
        if k is None or k is Ellipsis or isinstance(k, slice):
            entries.append(k)
        elif isinstance(k, bool) or (_of(k) is not None and len(getattr(k, "shape", (1,))) == 0
                                     and _kind(k.dtype) == "b"):
            raise TypeError("indexing: a scalar boolean index is not supported")
        elif isinstance(k, int) or (_of(k) is _backend.default() and k.shape == ()
                                    and _kind(k.dtype) in "iu"):
            entries.append(operator.index(k))
        else:
            v = unwrap(k)
            # a NumPy mask stays on the host: its nonzero() is read there, not computed
            # (Dask) or synchronised (GPU) after a transfer
            arr = v if _of(v) is _backend.default() and _kind(v.dtype) == "b" \
                else _index_array(k, bk, like)
            kd = _kind(arr.dtype)
            if kd == "b" and len(arr.shape) == 0:
                raise TypeError("indexing: a 0-d boolean index is not supported")
            if kd not in "biu" and prod(arr.shape):
                raise IndexError(f"indexing: an index of dtype {arr.dtype} is not valid; use "
                                 "integers, slices, None, ..., or integer or boolean arrays")
            entries.append(arr if kd == "b" else bk.astype(arr, bk.index_dtype))
    ellipsis_width = len(shape) - sum(_consumed(k) for k in entries)
    out, axis = [], 0
    for k in entries:
        if k is Ellipsis:
            axis += max(ellipsis_width, 0)
        elif _is_mask(k):
            nd = len(k.shape)
            covered = tuple(shape[axis:axis + nd])
            if tuple(k.shape) != covered:
                raise IndexError(f"indexing: a boolean index of shape {tuple(k.shape)} does "
                                 f"not match the axes {axis}..{axis + nd - 1} of shape "
                                 f"{covered} it covers (array shape {tuple(shape)})")
            mb = _of(k)
            found = mb.nonzero_known(k)
            out.extend(found if mb is bk else (bk.from_numpy(i, like=like) for i in found))
            axis += nd
            continue
        else:
            axis += _consumed(k)
        out.append(k)
    return tuple(out)


def getitem(a, key):
    """``a[key]`` with numpy semantics (slices, ints, None, ..., integer and boolean arrays).

    The derivative scatter-adds into zeros (the backend's scatter-add), so repeated indices
    accumulate.
    """
    x = _check_operand(a, 0, "getitem")
    return _finish(getitem_p(x, index=normalize_index(key, tuple(x.shape), _backend_of(x),
                                                      unwrap(x))))


def take_along_axis(arr, indices, axis=-1):
    """Pick ``arr``'s values at ``indices`` along ``axis`` (as :func:`numpy.take_along_axis`).

    ``indices`` has ``arr``'s number of dimensions; other axes broadcast. With
    ``axis=None``, ``arr`` is flattened and ``indices`` must be 1-D.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.take_along_axis(np.array([[1, 2], [3, 4]]), np.array([[1], [0]]), axis=1)
        array([[2],
               [3]])
    """
    x = _check_operand(arr, 0, "take_along_axis")
    bk = _backend_of(x)
    idx = _index_array(indices, bk, unwrap(x))
    if _kind(idx.dtype) not in "iu":
        raise IndexError(f"take_along_axis: indices must be integers, got dtype {idx.dtype}")
    if axis is None:
        x = rules.reshape_p(x, shape=(prod(x.shape),))
        axis = 0
    if len(idx.shape) != x.ndim:
        raise ValueError(f"take_along_axis: indices has {len(idx.shape)} dimension(s) (shape "
                         f"{tuple(idx.shape)}) but arr has {x.ndim} (shape {tuple(x.shape)})")
    (ax,) = normalize_axes(axis, x.ndim, "take_along_axis")
    index = []
    for d in range(x.ndim):
        if d == ax:
            index.append(bk.astype(idx, bk.index_dtype))
        else:
            shape = [1] * x.ndim
            shape[d] = x.shape[d]
            index.append(bk.reshape(bk.arange(x.shape[d], dtype=bk.index_dtype,
                                              device=bk.device(unwrap(x))), tuple(shape)))
    return _finish(getitem_p(x, index=tuple(index)))


def astype(x, dtype, /, *, copy=True, device=None):
    """``x`` cast to ``dtype``; the derivative is cast back to ``x``'s dtype.

    numpy's and the array API's signature: with ``copy=False`` a plain ``x`` that already
    has ``dtype`` is returned itself; otherwise the result is a new array. ``dtype`` is
    read in ``x``'s library (a NumPy dtype or a name such as ``"float32"`` is fine for
    every backend). ``device`` may only be None or ``x``'s own device.
    """
    x = _check_operand(x, 0, "astype")
    bk = _backend_of(x)
    if device is not None and device != bk.device(unwrap(x)):
        raise ValueError(f"astype: device must be None or the array's device "
                         f"{bk.device(unwrap(x))!r}, got {device!r}")
    dtype = bk.dtype(dtype)
    if dtype == x.dtype and (isinstance(x, Tracer) or not copy):
        return x
    out = rules.astype_p(x, dtype=dtype)
    if not isinstance(out, Tracer) and (out is x or (bk.owner(out) is not None
                                                     and bk.owner(out) == bk.owner(x))):
        out = bk.copy(out)  # as numpy's astype: a new array, even for the same dtype
    return _finish(out)
