"""The Dask backend: every operation builds a lazy dask graph; nothing runs until ``compute``.

Dask arrays are NumPy arrays cut into chunks, and ``dask.array`` speaks NumPy's vocabulary
(``concatenate``, ``transpose``, ``power``, ``arccos``), not always the standard's: every
function of the engine's vocabulary is bound here explicitly to the dask operation that
does it lazily. Each pairwise step of a planned contraction becomes one ``blockwise``
operation (``contract_blocks``: the step lowered for NumPy blocks runs on every combination
of blocks, then the partial products are added over the contracted labels' blocks), so
opt_einsum's order shapes the whole graph and no reshape rechunks merged axes;
``dask.array.einsum`` (one blockwise over every index) is used only for the n-ary steps of
``optimize=False``.

What stays lazy: the forward, the backward, derivatives of every order, indexing and its
scatter-add (``bincount`` over flat positions), diagonal views and writes, sorts, scans and
FFTs. What is computed early, because a result's shape depends on values: a Dask boolean
mask used as an index and ``nonzero`` (``nonzero_known``), the ``unique_*`` functions,
``repeat`` by an array of counts, and ``to_numpy`` (the host copies of the test helpers).
Integer indices are checked when the graph runs. Dask arrays are immutable, so nothing is
copied to hand out a derivative (``owner`` is None). Dtypes are NumPy's: promotion, casting
and kinds are the NumPy backend's.
"""

from __future__ import annotations

import contextlib
import functools
import math
import operator
import threading
import warnings

import dask
import dask.array as da
import numpy as np
from dask.array.core import elemwise as _elemwise
from dask.array.core import unify_chunks
from dask.array.utils import meta_from_array
from dask.base import tokenize

from ._base import Backend, _is_index_array, basic_region_shape

__all__ = ["DaskBackend", "make"]

# Elementwise functions whose standard name is dask.array's (and numpy's) own.
_ELEMENTWISE = (
    "abs", "add", "bitwise_and", "bitwise_or", "bitwise_xor", "ceil", "conj", "copysign",
    "cos", "cosh", "divide", "equal", "exp", "expm1", "floor", "floor_divide", "greater",
    "greater_equal", "hypot", "imag", "isfinite", "isinf", "isnan", "less", "less_equal",
    "log", "log1p", "log2", "log10", "logaddexp", "logical_and", "logical_not", "logical_or",
    "logical_xor", "maximum", "minimum", "multiply", "negative", "nextafter", "not_equal",
    "positive", "real", "reciprocal", "remainder", "sign", "signbit", "sin", "sinh",
    "square", "sqrt", "subtract", "tan", "tanh", "trunc",
)
# Elementwise functions the standard names differently: standard name -> numpy's name.
_ELEMENTWISE_RENAMED = {
    "acos": "arccos", "acosh": "arccosh", "asin": "arcsin", "asinh": "arcsinh",
    "atan": "arctan", "atan2": "arctan2", "atanh": "arctanh", "pow": "power",
    "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift",
    "bitwise_invert": "invert",
}
# Other functions whose dask.array callable takes the standard's arguments as they are.
_SAME = (
    "broadcast_arrays", "broadcast_to", "expand_dims", "flip", "moveaxis", "roll", "squeeze",
    "stack", "tile", "argmax", "argmin", "where", "mean",
    "prod", "all", "any", "matmul", "tensordot", "tril", "triu", "meshgrid",
)
_RENAMED = {"permute_dims": "transpose", "concat": "concatenate"}

_QUIET = threading.local()  # depth of Backend.quiet() contexts in this thread


class _Quiet:
    """A chunk function run with NumPy's IEEE warnings off (the graph of a ``quiet()``
    block is computed later, outside the block: its chunks carry the context along)."""

    __slots__ = ("f",)

    def __init__(self, f):
        self.f = f

    def __call__(self, *args, **kwargs):
        with np.errstate(all="ignore"):
            return self.f(*args, **kwargs)

    def __dask_tokenize__(self):
        return ("einsum_ad-quiet", tokenize(self.f))

    def __reduce__(self):
        return (_Quiet, (self.f,))


def _elementwise(npname):
    """dask's lazy ufunc ``npname``; inside ``quiet()`` its chunks run without warnings."""
    lazy, ufunc = getattr(da, npname), getattr(np, npname)

    def f(*args, **kwargs):
        if getattr(_QUIET, "depth", 0):
            return _elemwise(_Quiet(ufunc), *args, **kwargs)
        return lazy(*args, **kwargs)
    f.__name__ = npname
    return f


def _on_host(device):
    if device not in (None, "cpu"):
        raise ValueError(f"the dask backend's arrays live on the host ('cpu'), not {device!r}")


def _chunks_for(a, like):
    """Chunks for a NumPy array entering a graph: ``like``'s when the shapes agree (no
    rechunk where they meet), else one chunk unless larger than dask's chunk size."""
    if isinstance(like, da.Array) and tuple(like.shape) == tuple(a.shape):
        return like.chunks
    limit = dask.utils.parse_bytes(dask.config.get("array.chunk-size"))
    return -1 if a.nbytes <= limit else "auto"


class DaskBackend(Backend):
    """``dask.array.Array`` with NumPy chunks, driven lazily."""

    name = "dask"
    lazy = True
    values_on_host = False
    chunk_backend = "numpy"
    einsum = staticmethod(lambda subscripts, *arrays: da.einsum(subscripts, *arrays))

    def __init__(self):
        super().__init__(da, "dask")
        from .numpy import make as numpy_backend
        self._np = numpy_backend()
        for dname in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                      "uint64", "float16", "float32", "float64", "complex64", "complex128"):
            setattr(self, dname, np.dtype(dname))
        self.default_float = np.dtype(np.float64)
        self.default_int = np.dtype(np.int_)
        self.index_dtype = np.dtype(np.intp)
        self._dtypes = dict(self._np._dtypes)
        for fname in _ELEMENTWISE:
            setattr(self, fname, _elementwise(fname))
        for fname, npname in _ELEMENTWISE_RENAMED.items():
            setattr(self, fname, _elementwise(npname))
        for fname in _SAME:
            setattr(self, fname, getattr(da, fname))
        for fname, daname in _RENAMED.items():
            setattr(self, fname, getattr(da, daname))
        self.matrix_transpose = lambda x: da.swapaxes(x, -1, -2)
        self.finfo, self.iinfo, self.isdtype = np.finfo, np.iinfo, np.isdtype
        self.from_dlpack = None  # a dask array is no buffer

    def owns(self, x) -> bool:
        return isinstance(x, da.Array)

    # ------------------------------------------------------------------ dtypes: NumPy's

    def dtype(self, spec):
        return self._np.dtype(spec)

    def dtype_name(self, dtype) -> str:
        return self._np.dtype_name(dtype)

    def dtype_kind(self, dtype):
        return self._np.dtype_kind(dtype)

    def itemsize(self, dtype) -> int:
        return self._np.itemsize(dtype)

    def real_dtype(self, dtype):
        return self._np.real_dtype(dtype)

    def complex_dtype(self, dtype):
        return self._np.complex_dtype(dtype)

    def inexact_dtype(self, dtype):
        return self._np.inexact_dtype(dtype)

    def weak_dtype(self, like_dtype, scalar):
        return self._np.weak_dtype(like_dtype, scalar)

    def sum_dtype(self, dtype):
        return self._np.sum_dtype(dtype)

    def can_cast(self, from_, to, casting="safe") -> bool:
        return self._np.can_cast(from_, to, casting)

    def result_type(self, *arrays_and_dtypes):
        """numpy's promotion, reading an array's dtype (never its values)."""
        return np.result_type(*(getattr(a, "dtype", a) if isinstance(a, da.Array) else a
                                for a in arrays_and_dtypes))

    # ------------------------------------------------------------------ creation

    def device(self, x):
        return "cpu"

    def from_numpy(self, a, like=None):
        """NumPy data ``a`` as a dask array: in ``like``'s chunks when it has ``a``'s shape,
        else in one chunk unless it exceeds dask's ``array.chunk-size``."""
        a = np.asarray(a)
        return da.from_array(a, chunks=_chunks_for(a, like))

    def asarray(self, obj, dtype=None, device=None, copy=None):
        _on_host(device)
        if isinstance(obj, da.Array):
            return obj if dtype is None else obj.astype(self.dtype(dtype))
        return self.from_numpy(np.asarray(obj, dtype=None if dtype is None
                                          else self.dtype(dtype)))

    def const(self, value, like):
        return da.from_array(np.asarray(value, dtype=like.dtype), chunks=())

    def scalar(self, value, dtype, device=None):
        return da.from_array(np.asarray(value, dtype=dtype), chunks=())

    def zeros(self, shape, dtype=None, device=None):
        _on_host(device)
        return da.zeros(shape, dtype=self.default_float if dtype is None else dtype)

    def ones(self, shape, dtype=None, device=None):
        _on_host(device)
        return da.ones(shape, dtype=self.default_float if dtype is None else dtype)

    def empty(self, shape, dtype=None, device=None):
        return self.zeros(shape, dtype, device)

    def full(self, shape, fill_value, dtype=None, device=None):
        _on_host(device)
        if dtype is None:  # numpy's: a Python float is float64, an int int64, ...
            dtype = np.asarray(fill_value).dtype
        return da.full(shape, fill_value, dtype=dtype)

    def zeros_like(self, x, dtype=None, device=None):
        _on_host(device)
        return da.zeros_like(x, dtype=dtype)

    def ones_like(self, x, dtype=None, device=None):
        _on_host(device)
        return da.ones_like(x, dtype=dtype)

    def empty_like(self, x, dtype=None, device=None):
        return self.zeros_like(x, dtype, device)

    def full_like(self, x, fill_value, dtype=None, device=None):
        _on_host(device)
        return da.full_like(x, fill_value, dtype=dtype)

    def arange(self, start, stop=None, step=1, dtype=None, device=None):
        _on_host(device)
        if stop is None:
            start, stop = 0, start
        return da.arange(start, stop, step, dtype=dtype)

    def linspace(self, start, stop, num, dtype=None, device=None, endpoint=True):
        _on_host(device)
        return da.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)

    def eye(self, n_rows, n_cols=None, k=0, dtype=None, device=None):
        _on_host(device)
        return da.eye(n_rows, M=n_cols, k=k, dtype=self.default_float if dtype is None
                      else dtype)

    # ------------------------------------------------------------------ manipulation

    def reshape(self, x, shape):
        """``x`` in ``shape``. dask reshapes by merging or splitting axes; a reshape that
        is neither, such as (3, 4) to (2, 6), merges the axes that differ into one first."""
        try:
            return da.reshape(x, shape)
        except NotImplementedError:
            pass
        shape = _resolve(shape, x.shape)
        lead = 0
        while lead < min(x.ndim, len(shape)) and x.shape[lead] == shape[lead]:
            lead += 1
        trail = 0
        while trail < min(x.ndim, len(shape)) - lead and x.shape[-1 - trail] == shape[-1 - trail]:
            trail += 1
        mid = (math.prod(x.shape[lead:x.ndim - trail]),)
        y = da.reshape(x, tuple(x.shape[:lead]) + mid + tuple(x.shape[x.ndim - trail:]))
        return da.reshape(y, shape)

    def reshape_copy(self, x, shape, copy):
        """A reshape is a new lazy array, never a view of memory: ``copy`` either way."""
        return self.reshape(x, tuple(shape))

    def max(self, x, axis=None, keepdims=False):
        return self._extremum(da.max, x, axis, keepdims)

    def min(self, x, axis=None, keepdims=False):
        return self._extremum(da.min, x, axis, keepdims)

    def _extremum(self, f, x, axis, keepdims):
        if math.prod(x.shape):
            return f(x, axis=axis, keepdims=keepdims)
        # an empty array: dask's tree of chunk reductions would reduce empty chunks
        axes = tuple(range(x.ndim)) if axis is None else tuple(
            a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis))
        if any(x.shape[a] == 0 for a in axes):
            raise ValueError(f"zero-size array to reduction operation {f.__name__} which "
                             "has no identity")
        shape = tuple(1 if a in axes else n for a, n in enumerate(x.shape) if keepdims
                      or a not in axes)
        return da.zeros(shape, dtype=x.dtype)

    def astype(self, x, dtype):
        return x.astype(dtype)

    def sum(self, x, axis=None, dtype=None, keepdims=False):
        return da.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)

    def clip(self, x, min=None, max=None):
        if min is None and max is None:
            return x
        return da.clip(x, min, max)

    def round(self, x):
        return da.round(x)

    def std(self, x, axis=None, correction=0.0, keepdims=False):
        return da.std(x, axis=axis, ddof=correction, keepdims=keepdims)

    def var(self, x, axis=None, correction=0.0, keepdims=False):
        return da.var(x, axis=axis, ddof=correction, keepdims=keepdims)

    def count_nonzero(self, x, axis=None, keepdims=False):
        return da.sum(da.not_equal(x, 0), axis=axis, keepdims=keepdims, dtype=np.intp)

    def diff(self, x, axis=-1, n=1, prepend=None, append=None):
        return da.diff(x, n=n, axis=axis, prepend=prepend, append=append)

    def take(self, x, indices, axis=None):
        if axis is None:
            if x.ndim != 1:
                raise ValueError("take: axis is required for an array of more than one "
                                 f"dimension (shape {tuple(x.shape)})")
            axis = 0
        axis = operator.index(axis) % x.ndim
        return self.getitem(x, (slice(None),) * axis + (self.asarray(indices),))

    def take_along_axis(self, x, indices, axis=-1):
        axis = operator.index(axis) % x.ndim
        index = tuple(indices if d == axis else da.arange(n).reshape(
            (1,) * d + (n,) + (1,) * (x.ndim - d - 1)) for d, n in enumerate(x.shape))
        return self.getitem(x, index)

    def repeat(self, x, repeats, axis=None):
        """numpy's ``repeat``; an array of counts is COMPUTED (the result's length is their
        sum) and ``x`` gathered by the repeated positions."""
        if axis is None:
            x, axis = self.reshape(x, (-1,)), 0
        axis = operator.index(axis) % x.ndim
        if isinstance(repeats, int):
            return da.repeat(x, repeats, axis=axis)
        counts = np.asarray(self.to_numpy(repeats))
        positions = np.repeat(np.arange(x.shape[axis]), counts)
        return self.take(x, self.from_numpy(positions), axis=axis)

    def unstack(self, x, axis=0):
        axis = operator.index(axis) % x.ndim
        return tuple(x[(slice(None),) * axis + (i,)] for i in range(x.shape[axis]))

    def vecdot(self, x1, x2, axis=-1):
        return da.sum(da.multiply(da.conj(x1), x2), axis=axis)

    def cumulative_sum(self, x, axis=None, dtype=None, include_initial=False):
        return self._cumulative(da.cumsum, 0, x, axis, dtype, include_initial)

    def cumulative_prod(self, x, axis=None, dtype=None, include_initial=False):
        return self._cumulative(da.cumprod, 1, x, axis, dtype, include_initial)

    def _cumulative(self, f, start, x, axis, dtype, include_initial):
        if axis is None:
            if x.ndim > 1:
                raise ValueError("cumulative functions need an axis for arrays of more than "
                                 f"one dimension (shape {tuple(x.shape)})")
            axis = 0
        out = f(x, axis=axis, dtype=dtype)
        if include_initial:
            shape = list(out.shape)
            shape[axis] = 1
            out = da.concatenate([da.full(tuple(shape), start, dtype=out.dtype), out],
                                 axis=axis)
        return out

    def sort(self, x, axis=-1, descending=False, stable=True):
        return self._along(x, axis, lambda b: np.flip(np.sort(b, axis=axis, kind="stable"),
                                                      axis) if descending
                           else np.sort(b, axis=axis, kind="stable"), x.dtype)

    def argsort(self, x, axis=-1, descending=False, stable=True):
        def f(b):
            if descending:  # stable among equal values: sort the reversed, then map back
                n = b.shape[axis]
                r = np.argsort(np.flip(b, axis), axis=axis, kind="stable")
                return np.flip(n - 1 - r, axis)
            return np.argsort(b, axis=axis, kind="stable")
        return self._along(x, axis, f, self.index_dtype)

    def _along(self, x, axis, f, dtype):
        """``f`` applied to blocks holding all of ``axis`` (a sort needs the whole axis)."""
        axis = operator.index(axis) % x.ndim
        x = x.rechunk({axis: -1})
        return da.map_blocks(f, x, dtype=dtype)

    def searchsorted(self, x1, x2, side="left", sorter=None):
        if sorter is not None:  # dask takes none: search the sorted values themselves
            x1 = self.take(x1, sorter, axis=0)
        if not isinstance(x2, da.Array):
            x2 = self.asarray(x2)
        if x2.ndim == 0:  # dask searches arrays of values only
            return da.reshape(da.searchsorted(x1, da.reshape(x2, (1,)), side=side), ())
        return da.searchsorted(x1, x2, side=side)

    # The unique elements: their number depends on the values, so x is COMPUTED here (as
    # a boolean mask's nonzero is) and the results are wrapped as dask arrays.

    def unique_values(self, x):
        return self.from_numpy(np.unique_values(self.to_numpy(x)))

    def unique_counts(self, x):
        return self._unique(np.unique_counts, x)

    def unique_inverse(self, x):
        return self._unique(np.unique_inverse, x)

    def unique_all(self, x):
        return self._unique(np.unique_all, x)

    def _unique(self, f, x):
        found = f(self.to_numpy(x))
        return type(found)(*(self.from_numpy(a) for a in found))

    def fft_c2c(self, x, axes, inverse=False, norm="backward"):
        """dask transforms an axis held in one chunk: the axes are rechunked whole first."""
        axes = tuple(axes)
        return (da.fft.ifftn if inverse else da.fft.fftn)(self._whole(x, axes), axes=axes,
                                                          norm=norm)

    def fft_r2c(self, x, axis, norm="backward"):
        return da.fft.rfft(self._whole(x, (axis,)), axis=axis, norm=norm)

    def fft_c2r(self, x, axis, n, norm="backward"):
        return da.fft.irfft(self._whole(x, (axis,)), n=n, axis=axis, norm=norm)

    def _whole(self, x, axes):
        """``x`` with each of ``axes`` in a single chunk."""
        if all(len(x.chunks[a]) == 1 for a in axes):
            return x
        return x.rechunk({a: -1 for a in axes})

    def nonzero(self, x):
        return self.nonzero_known(x)

    def nonzero_known(self, mask):
        """``nonzero(mask)`` of known lengths: the mask is COMPUTED here. A boolean mask
        used as an index decides the result's shape by its values, and every operation
        after it needs that shape; there is no lazy alternative."""
        found = np.nonzero(np.asarray(mask.compute()))
        return tuple(da.from_array(i, chunks=_chunks_for(i, None)) for i in found)

    def getitem(self, x, index):
        """numpy's ``x[index]``, lazily. Integer arrays are checked against their axis when
        the graph runs (an index out of bounds raises numpy's IndexError at compute: dask's
        own take would wrap it silently) and their negative entries counted from the end.
        dask indexes by at most one 1-D integer array, and without None or ints beside
        it; any other index with integer arrays is gathered here from flat positions, with
        numpy's placement of the broadcast axes."""
        index = index if isinstance(index, tuple) else (index,)
        if not any(_is_index_array(k) for k in index):
            return x[index]
        entries, axis = [], 0
        for k in _expand_ellipsis(index, x.ndim):
            if _is_index_array(k):
                k = k.map_blocks(_in_bounds, x.shape[axis], axis, dtype=k.dtype)
            entries.append(k)
            axis += k is not None
        arrays = [k for k in entries if _is_index_array(k)]
        if len(arrays) == 1 and arrays[0].ndim == 1 \
                and not any(k is None or isinstance(k, int) for k in entries):
            return x[tuple(entries)]  # dask's own take (it refuses a None beside it)
        return self._gather_flat(x, entries)

    def _gather_flat(self, x, entries):
        adv, axis = [], 0  # (position in entries, axis of x, entry)
        for pos, k in enumerate(entries):
            if k is None:
                continue
            if not isinstance(k, slice):
                adv.append((pos, axis, k))
            axis += 1
        bshape = np.broadcast_shapes(*(tuple(k.shape) if _is_index_array(k) else ()
                                       for _, _, k in adv))
        axes = [a for _, a, _ in adv]
        sizes = [x.shape[a] for a in axes]
        flat, stride = None, 1
        for (_, a, k), n in reversed(list(zip(adv, sizes))):
            if isinstance(k, int):
                if not -n <= k < n:
                    raise IndexError(f"index {k} is out of bounds for axis {a} with size {n}")
                term = (k % n) * stride
            else:  # already checked and made non-negative
                term = k * stride if stride != 1 else k
            flat = term if flat is None else flat + term
            stride *= n
        flat = da.broadcast_to(flat, bshape) if isinstance(flat, da.Array) \
            else da.full(bshape, flat, dtype=self.index_dtype)
        rest = [a for a in range(x.ndim) if a not in axes]
        y = da.transpose(x, tuple(axes + rest))
        y = da.reshape(y, (math.prod(sizes),) + tuple(x.shape[a] for a in rest))
        y = da.take(y, da.reshape(flat, (-1,)), axis=0)
        y = da.reshape(y, tuple(bshape) + tuple(y.shape[1:]))
        basic = tuple(k for pos, k in enumerate(entries)
                      if k is None or isinstance(k, slice))
        y = y[(slice(None),) * len(bshape) + basic]
        positions = [pos for pos, _, _ in adv]
        if positions == list(range(positions[0], positions[0] + len(positions))):
            # adjacent advanced indices: the broadcast axes stand where they were
            dest = positions[0]  # entries before them are slices and None: one axis each
            if dest:
                nb = len(bshape)
                y = da.moveaxis(y, tuple(range(nb)), tuple(range(dest, dest + nb)))
        return y

    def flat_positions(self, index, shape, like):
        pos = da.reshape(da.arange(math.prod(shape), dtype=self.index_dtype), tuple(shape))
        return self.getitem(pos, index)

    def scatter_add(self, g, index, shape):
        """Zeros of ``shape`` with ``g`` added at ``index``, lazily: basic indices through
        dask's ``__setitem__`` into zeros, integer arrays through ``bincount`` of the flat
        positions weighted by ``g`` (real and imaginary parts apart), so repeated positions
        accumulate."""
        shape = tuple(shape)
        if math.prod(g.shape) == 0:
            return da.zeros(shape, dtype=g.dtype)
        if not any(_is_index_array(k) for k in index):
            out = da.zeros(shape, dtype=g.dtype)
            out[tuple(k for k in index if k is not None)] = da.reshape(
                g, basic_region_shape(index, g.shape))
            return out
        size = math.prod(shape)
        flat = da.reshape(self.flat_positions(index, shape, g), (-1,))
        w = da.reshape(g, (-1,)).rechunk(flat.chunks)
        if np.dtype(g.dtype).kind == "c":
            total = da.bincount(flat, weights=da.real(w), minlength=size) \
                + 1j * da.bincount(flat, weights=da.imag(w), minlength=size)
        else:
            total = da.bincount(flat, weights=w, minlength=size)
        return da.reshape(total.astype(g.dtype), shape)

    def contract_blocks(self, kernel, a, la, b, lb, out, dtype):
        """One pairwise contraction ``la,lb->out`` as a blockwise operation: ``kernel`` (the
        step lowered for NumPy blocks) runs on each combination of blocks, with the blocks
        of every contracted label that is cut into several kept apart as size-1 axes of
        the result, which one ``sum`` then reduces (dask's tree). Shared labels are brought
        to common chunks first (``unify_chunks``)."""
        chunkss, (a, b) = unify_chunks(a, la, b, lb)
        split = tuple(lab for lab in dict.fromkeys(la + lb)
                      if lab not in out and len(chunkss[lab]) > 1)
        meta = meta_from_array(a, len(out) + len(split), dtype=dtype)
        if not split:
            return da.blockwise(kernel, out, a, la, b, lb, dtype=dtype, meta=meta,
                                token="einsum_step", concatenate=True, align_arrays=False)
        r = da.blockwise(functools.partial(_with_ones, kernel, len(split)), out + "".join(split),
                         a, la, b, lb, adjust_chunks={lab: 1 for lab in split}, dtype=dtype,
                         meta=meta, token="einsum_step", concatenate=True, align_arrays=False)
        # the partial products are added as they are (dask's tree, never concatenated
        # along the contracted blocks: a concatenate-and-sum copies every partial)
        return da.reduction(r, _sum_blocks, _sum_blocks, combine=_sum_blocks,
                            axis=tuple(range(len(out), len(out) + len(split))), dtype=dtype,
                            concatenate=False, name="einsum_step-sum")

    def diagonal(self, x, groups):
        """Each group of axes merged into one along its diagonal, pair by pair with dask's
        ``diagonal`` (which reads the diagonal blocks only), then the groups in order."""
        labels = [None] * x.ndim
        for gi, g in enumerate(groups):
            for i in g:
                labels[i] = gi
        for gi in range(len(groups)):
            while labels.count(gi) > 1:
                p = labels.index(gi)
                q = labels.index(gi, p + 1)
                x = da.diagonal(x, axis1=p, axis2=q)
                labels = [lab for j, lab in enumerate(labels) if j not in (p, q)] + [gi]
        perm = tuple(labels.index(gi) for gi in range(len(groups)))
        return x if perm == tuple(range(len(perm))) else da.transpose(x, perm)

    def write_diagonal(self, x, shape, groups):
        """Zeros of ``shape`` with ``x`` (one axis per group) on the diagonals: ``x`` is
        broadcast along each group's other axes and selected where the group's indices
        agree (a ``where``, blockwise, never a mask multiply: an ``inf`` stays an ``inf``).
        ``x``'s size-1 axes where the diagonal is longer are broadcast first."""
        shape = tuple(shape)
        diag = tuple(shape[g[0]] for g in groups)
        if tuple(x.shape) != diag:
            x = da.broadcast_to(x, diag)
        nd = len(shape)
        order = sorted(range(len(groups)), key=lambda a: groups[a][0])
        if order != list(range(len(order))):
            x = da.transpose(x, tuple(order))
        firsts = {g[0]: a for a, g in enumerate(groups)}
        x = x[tuple(slice(None) if i in firsts else None for i in range(nd))]
        owner = {i: g[0] for g in groups for i in g}
        chunks = tuple(x.chunks[owner[i]] for i in range(nd))  # a group's axes alike
        y = da.broadcast_to(x, shape, chunks=chunks)
        mask = None
        for g in groups:
            if len(g) == 1:
                continue
            first = _positions(shape, g[0], chunks[g[0]])
            for i in g[1:]:
                eq = da.equal(first, _positions(shape, i, chunks[i]))
                mask = eq if mask is None else da.logical_and(mask, eq)
        if mask is None:
            return y
        return da.where(mask, y, self.const(0, y))

    # ------------------------------------------------------------------ linear algebra
    #
    # dask.linalg works on single 2-D matrices, in its own conventions (its cholesky
    # returns the upper factor), and lacks eigh, det, slogdet, svdvals and pinv: each
    # operation here is one apply_gufunc whose blocks hold whole matrices (the core axes
    # rechunked whole, the batch axes kept in their chunks) and run the NumPy backend's
    # kernel on their stack of matrices.

    def _stacked(self, name, signature, args, dtypes, sizes=None, **kwargs):
        with warnings.catch_warnings():  # dask casts its empty stand-in of a complex
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)  # to a real
            out = da.apply_gufunc(functools.partial(_numpy_linalg, name, **kwargs),
                                  signature, *args, output_dtypes=dtypes, output_sizes=sizes,
                                  allow_rechunk=True)
        return tuple(out) if isinstance(dtypes, tuple) else out

    def linalg_inv(self, x):
        return self._stacked("inv", "(m,m)->(m,m)", (x,), x.dtype)

    def linalg_solve(self, a, b):
        return self._stacked("solve", "(m,m),(m,k)->(m,k)", (a, b), self.result_type(a, b))

    def linalg_triangular_solve(self, t, b, lower):
        return self._stacked("triangular_solve", "(m,m),(m,k)->(m,k)", (t, b),
                             self.result_type(t, b), lower=lower)

    def linalg_cholesky(self, x):
        return self._stacked("cholesky", "(m,m)->(m,m)", (x,), x.dtype)

    def linalg_eigh(self, x, lower=True):
        return self._stacked("eigh", "(m,m)->(m),(m,m)", (x,),
                             (self.real_dtype(x.dtype), x.dtype), lower=lower)

    def linalg_eigvalsh(self, x, lower=True):
        return self._stacked("eigvalsh", "(m,m)->(m)", (x,), self.real_dtype(x.dtype),
                             lower=lower)

    def linalg_svd(self, x, full_matrices):
        m, n = x.shape[-2:]
        sig = "(m,n)->(m,m),(k),(n,n)" if full_matrices else "(m,n)->(m,k),(k),(k,n)"
        return self._stacked("svd", sig, (x,), (x.dtype, self.real_dtype(x.dtype), x.dtype),
                             {"k": min(m, n)}, full_matrices=full_matrices)

    def linalg_svdvals(self, x):
        return self._stacked("svdvals", "(m,n)->(k)", (x,), self.real_dtype(x.dtype),
                             {"k": min(x.shape[-2:])})

    def linalg_qr(self, x, mode):
        m, n = x.shape[-2:]
        sig = {"reduced": "(m,n)->(m,k),(k,n)", "complete": "(m,n)->(m,m),(m,n)",
               "raw": "(m,n)->(n,m),(k)"}[mode]  # raw: numpy's (h, tau), h transposed
        return self._stacked("qr", sig, (x,), (x.dtype, x.dtype), {"k": min(m, n)},
                             mode=mode)

    def linalg_det(self, x):
        return self._stacked("det", "(m,m)->()", (x,), x.dtype)

    def linalg_slogdet(self, x):
        return self._stacked("slogdet", "(m,m)->(),()", (x,),
                             (x.dtype, self.real_dtype(x.dtype)))

    def linalg_pinv(self, x, rtol):
        return self._stacked("pinv", "(m,n)->(n,m)", (x,), x.dtype, rtol=rtol)

    def store(self, out, x, casting="unsafe"):
        if casting != "unsafe" and not self.can_cast(x.dtype, out.dtype, casting):
            raise TypeError(f"cannot cast the result from {x.dtype} to out's {out.dtype} "
                            f"under the rule {casting!r}")
        out[...] = da.broadcast_to(x, out.shape).astype(out.dtype)

    # ------------------------------------------------------------------ memory, host

    def owner(self, x):
        """None: a dask array is an immutable recipe, never shared memory."""
        return None

    def readonly(self, x) -> bool:
        return False

    def copy(self, x):
        return x.copy()  # a new Array object over the same graph: setitem on it is local

    def to_numpy(self, x):
        """COMPUTES ``x`` (on the current scheduler) and returns the NumPy result."""
        return np.asarray(x.compute() if isinstance(x, da.Array) else x)

    def quiet(self):
        """A context in which the elementwise operations built carry ``numpy.errstate``
        into their chunks, where the arithmetic happens when the graph is computed."""
        return _quiet()


@contextlib.contextmanager
def _quiet():
    _QUIET.depth = getattr(_QUIET, "depth", 0) + 1
    try:
        with np.errstate(all="ignore"):  # dask's dtype inference runs NumPy right away
            yield
    finally:
        _QUIET.depth -= 1


def _numpy_linalg(name, *blocks, **kwargs):
    """The NumPy backend's ``linalg_<name>`` on blocks holding whole matrices (looked up by
    name when the task runs: it pickles for a distributed worker)."""
    from . import default
    return getattr(default(), "linalg_" + name)(*blocks, **kwargs)


def _in_bounds(block, n, axis):
    """A block of an integer index into an axis of size ``n``, checked (numpy's error)
    and with its negative entries counted from the end."""
    bad = (block < -n) | (block >= n)
    if bad.any():
        raise IndexError(f"index {block[bad].flat[0]} is out of bounds for axis {axis} with "
                         f"size {n}")
    return np.where(block < 0, block + n, block)


def _positions(shape, axis, chunks):
    """The index along ``axis`` of ``shape``, as an array of 1s but there (in ``chunks``)."""
    n = shape[axis]
    return da.arange(n, chunks=chunks).reshape(tuple(n if j == axis else 1
                                                     for j in range(len(shape))))


def _sum_blocks(a, axis=None, dtype=None, keepdims=False, **kwargs):
    """The sum of partial products (a block, or nested lists of equally shaped blocks
    whose ``axis`` have size 1), by elementwise additions."""
    if isinstance(a, list):
        parts = list(_leaves(a))
        out = parts[0]
        if len(parts) > 1:
            out = np.add(out, parts[1], dtype=dtype)
            for p in parts[2:]:
                np.add(out, p, out=out)
    else:
        out = a
    return out if keepdims else out.squeeze(axis)


def _leaves(nested):
    for x in nested:
        if isinstance(x, list):
            yield from _leaves(x)
        else:
            yield x


def _with_ones(kernel, n, a, b):
    """``kernel(a, b)`` with ``n`` trailing axes of size 1 (one per contracted label whose
    blocks are summed after)."""
    r = kernel(a, b)
    return r.reshape(r.shape + (1,) * n)


def _resolve(shape, old):
    """``shape`` with its -1 (if any) replaced by the size it stands for."""
    shape = tuple(operator.index(d) for d in shape)
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        shape = tuple(math.prod(old) // known if known and d == -1 else d for d in shape)
    return shape


def _expand_ellipsis(index, ndim):
    """``index`` with its Ellipsis spelled out as slices, and trailing slices added, so
    that every axis is read by exactly one entry (None entries read none)."""
    used = sum(1 for k in index if k is not None and k is not Ellipsis)
    out = []
    for k in index:
        if k is Ellipsis:
            out.extend([slice(None)] * (ndim - used))
            used = ndim
        else:
            out.append(k)
    out.extend([slice(None)] * (ndim - used))
    return out


_THE = None


def make() -> DaskBackend:
    """The Dask backend (one per process), registered for ``dask.array.Array``."""
    global _THE
    if _THE is None:
        from . import register
        _THE = DaskBackend()
        register(_THE, da.Array)
    return _THE
