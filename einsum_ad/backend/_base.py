"""The generic backend: the engine's vocabulary over any Python array API namespace.

A :class:`Backend` binds every function of the standard's namespace that the library has
under its standard name (``b.matmul``, ``b.permute_dims``, ``b.sum``, ...), and implements
on top of the standard alone what the engine needs beyond it: constants like an operand,
dtype kinds and weak scalar promotion, diagonal views and writes, scatter-add, memory
ownership. A library module subclasses it and overrides what it can do faster.
"""

from __future__ import annotations

import contextlib
import math

import numpy as _np  # host side only: to_numpy, and reading dtype names

__all__ = ["Backend", "STANDARD_FUNCTIONS", "DTYPE_NAMES"]

# The functions of the array API standard (2024.12): main namespace, bound when present.
STANDARD_FUNCTIONS = (
    # elementwise
    "abs", "acos", "acosh", "add", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
    "bitwise_left_shift", "bitwise_invert", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "ceil", "clip", "conj", "copysign", "cos", "cosh", "divide", "equal",
    "exp", "expm1", "floor", "floor_divide", "greater", "greater_equal", "hypot", "imag",
    "isfinite", "isinf", "isnan", "less", "less_equal", "log", "log1p", "log2", "log10",
    "logaddexp", "logical_and", "logical_not", "logical_or", "logical_xor", "maximum",
    "minimum", "multiply", "negative", "nextafter", "not_equal", "positive", "pow", "real",
    "reciprocal", "remainder", "round", "sign", "signbit", "sin", "sinh", "square", "sqrt",
    "subtract", "tan", "tanh", "trunc",
    # creation
    "arange", "asarray", "empty", "empty_like", "eye", "from_dlpack", "full", "full_like",
    "linspace", "meshgrid", "ones", "ones_like", "tril", "triu", "zeros", "zeros_like",
    # manipulation
    "broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip", "moveaxis",
    "permute_dims", "repeat", "reshape", "roll", "squeeze", "stack", "tile", "unstack",
    # searching, sets, sorting, statistics, utilities
    "argmax", "argmin", "count_nonzero", "nonzero", "searchsorted", "where",
    "unique_all", "unique_counts", "unique_inverse", "unique_values", "argsort", "sort",
    "cumulative_sum", "cumulative_prod", "max", "mean", "min", "prod", "std", "sum", "var",
    "all", "any", "diff", "take", "take_along_axis",
    # linear algebra in the main namespace; data types
    "matmul", "matrix_transpose", "tensordot", "vecdot",
    "astype", "can_cast", "finfo", "iinfo", "isdtype", "result_type",
)

DTYPE_NAMES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
               "uint64", "float32", "float64", "complex64", "complex128")

_KIND_OF_NAME = {"bool": "b", "int8": "i", "int16": "i", "int32": "i", "int64": "i",
                 "uint8": "u", "uint16": "u", "uint32": "u", "uint64": "u", "float16": "f",
                 "bfloat16": "f", "float32": "f", "float64": "f", "complex64": "c",
                 "complex128": "c"}
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


class Backend:
    """The vocabulary of one array library, over its array API namespace ``xp``.

    Attributes:
        name: the library's name (``"numpy"``, ``"torch"``, ...).
        xp: the namespace the standard's functions are taken from.
        lazy: True when arrays are recipes computed only on request (Dask): a rule must
            then never read a value to decide a branch.
        values_on_host: True when reading a value costs nothing (NumPy): only then does
            the namespace read values for numpy's warnings (``mean`` of an empty slice).
        has_einsum: whether ``einsum(subscripts, *arrays)`` is the library's own n-ary
            einsum (else None is bound and n-ary steps are contracted pairwise).
        float32, float64, complex64, complex128, bool, int64, ...: the library's dtypes.
        default_float, default_int, index_dtype: what Python floats, ints and indices become.
    """

    name = "array_api"
    lazy = False
    values_on_host = False  # numpy: values may be read for warnings at no cost
    einsum = None

    def __init__(self, xp, name=None):
        self.xp = xp
        if name is not None:
            self.name = name
        for fname in STANDARD_FUNCTIONS:
            f = getattr(xp, fname, None)
            if f is not None and not any(fname in c.__dict__ for c in type(self).__mro__):
                setattr(self, fname, f)
        for dname in DTYPE_NAMES:
            setattr(self, dname, getattr(xp, dname, None))
        self.default_float = self.float64
        self.default_int = self.int64
        self.index_dtype = self.int64
        self._dtypes = {getattr(xp, d): d for d in DTYPE_NAMES if getattr(xp, d, None) is not None}

    def __repr__(self):
        return f"<einsum_ad backend {self.name!r}>"

    # ------------------------------------------------------------------ identity

    def owns(self, x) -> bool:
        """Whether ``x`` is an array of this library (not merely of one of its modules)."""
        return hasattr(x, "shape") and hasattr(x, "dtype")

    # ------------------------------------------------------------------ dtypes

    def dtype(self, spec):
        """This library's dtype for ``spec``: one of its dtypes, a NumPy dtype or type, or a
        name such as ``"float32"``."""
        if spec in self._dtypes:
            return spec
        name = _dtype_name(spec)
        found = getattr(self, name, None) if name in DTYPE_NAMES else None
        if found is None:
            raise TypeError(f"the {self.name} backend has no dtype {spec!r}")
        return found

    def dtype_name(self, dtype) -> str:
        """The standard's name of one of this library's dtypes (``"float32"``)."""
        found = self._dtypes.get(dtype)
        return found if found is not None else _dtype_name(dtype)

    def dtype_kind(self, dtype):
        """``"b"``, ``"i"``, ``"u"``, ``"f"``, ``"c"`` for this library's dtypes, else None."""
        name = self._dtypes.get(dtype) if _hashable(dtype) else None
        return None if name is None else _KIND_OF_NAME[name]

    def itemsize(self, dtype) -> int:
        return _np.dtype(self.dtype_name(dtype)).itemsize

    def real_dtype(self, dtype):
        """The real dtype of a complex one (itself for others)."""
        name = self.dtype_name(dtype)
        return {"complex64": self.float32, "complex128": self.float64}.get(name, dtype)

    def complex_dtype(self, dtype):
        """The complex dtype of the same precision as a real floating one."""
        name = self.dtype_name(dtype)
        return {"float32": self.complex64, "float64": self.complex128}.get(name, dtype)

    def inexact_dtype(self, dtype):
        """``dtype`` when floating or complex, else the default floating dtype (the type
        an integer array takes in an elementwise function such as ``exp``)."""
        from . import kind
        return dtype if kind(dtype) in "fc" else self.default_float

    def weak_dtype(self, like_dtype, scalar):
        """The dtype a Python scalar takes next to an array of ``like_dtype`` (the
        standard's rule: a scalar of a lower kind takes the array's dtype; of a higher
        kind, the default dtype of its own kind, complex at the array's precision)."""
        from . import kind
        k = kind(like_dtype)
        if isinstance(scalar, bool):
            return like_dtype
        if isinstance(scalar, int):
            return like_dtype if k in "iufc" else self.default_int
        if isinstance(scalar, float):
            return like_dtype if k in "fc" else self.default_float
        if isinstance(scalar, complex):
            if k == "c":
                return like_dtype
            if k == "f":
                return self.complex_dtype(like_dtype)
            return self.complex128
        raise TypeError(f"not a Python scalar: {scalar!r}")

    def sum_dtype(self, dtype):
        """The accumulator of a sum: small integers and bool widen to the default integer
        (unsigned ones to the widest unsigned), as numpy and the standard do."""
        from . import kind
        k = kind(dtype)
        if k == "b" or (k == "i" and self.itemsize(dtype) < self.itemsize(self.default_int)):
            return self.default_int
        if k == "u" and self.itemsize(dtype) < 8:
            return self.uint64 if self.uint64 is not None else self.default_int
        return dtype

    def can_cast(self, from_, to, casting="safe") -> bool:
        """numpy's casting rules (``no``, ``equiv``, ``safe``, ``same_kind``, ``unsafe``)
        on this library's dtypes."""
        from . import kind
        if casting == "unsafe":
            return True
        if casting in ("no", "equiv"):
            return from_ == to
        safe = _np.can_cast(_np.dtype(self.dtype_name(from_)), _np.dtype(self.dtype_name(to)))
        if casting == "safe" or safe:
            return safe
        return _KIND_RANK.get(kind(from_), 9) <= _KIND_RANK.get(kind(to), -1)

    # ------------------------------------------------------------------ constants

    def device(self, x):
        return getattr(x, "device", None)

    def const(self, value, like):
        """A 0-d array holding ``value`` with ``like``'s dtype, on ``like``'s device."""
        return self.xp.asarray(value, dtype=like.dtype, device=self.device(like))

    def scalar(self, value, dtype, device=None):
        """A 0-d array of ``value`` in ``dtype``."""
        return self.xp.asarray(value, dtype=dtype, device=device)

    def finish(self, x):
        """What a plain result is handed to the user as (NumPy makes 0-d results scalars)."""
        return x

    # ------------------------------------------------------------------ manipulation

    def sum(self, x, axis=None, dtype=None, keepdims=False):
        return self.xp.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)

    def astype(self, x, dtype):
        return self.xp.astype(x, dtype)

    def getitem(self, x, index):
        return x[index]

    def add_region(self, target, index, value):
        """``target[index] += value`` for a basic ``index`` (slices), in place where the
        library allows; returns the array holding the sum (a sliced contraction adds each
        slice's result into its region). Generic: ``__setitem__`` of the sum."""
        target[index] = self.add(target[index], value)
        return target

    def store(self, out, x, casting="unsafe"):
        """Write ``x`` into array ``out`` (numpy's ``out=``), cast under ``casting``."""
        if casting != "unsafe" and not self.can_cast(x.dtype, out.dtype, casting):
            raise TypeError(f"cannot cast the result from {x.dtype} to out's {out.dtype} "
                            f"under the rule {casting!r}")
        out[...] = self.astype(x, out.dtype)

    def is_fortran(self, x) -> bool:
        """Whether ``x`` is laid out column-major only (numpy's ``order="A"``)."""
        return False

    def nonzero_known(self, mask):
        """``nonzero(mask)``: one integer array per axis, of known lengths (a lazy backend
        computes the mask here: the lengths depend on its values)."""
        return tuple(self.nonzero(mask))

    def with_order(self, x, order, operands=()):
        """``x`` in memory order ``order`` (numpy's ``"K"``, ``"C"``, ``"F"``, ``"A"``);
        a library without memory orders returns it as it is."""
        return x

    def contiguous(self, x):
        """``x`` laid out in row-major order (a copy only where that pays: NumPy)."""
        return x

    def diagonal(self, x, groups):
        """``x`` with each group of axes (equal sizes: one repeated einsum label) merged into
        one axis along its diagonal, the groups' axes in group order.

        Generic: the axes of each group side by side, merged by a reshape, and the diagonal
        taken as the slice with step ``1 + n + ... + n**(k-1)``.
        """
        order = [i for g in groups for i in g]
        if order != list(range(len(order))):
            x = self.permute_dims(x, tuple(order))
        merged, steps, shape = [], [], tuple(x.shape)
        pos = 0
        for g in groups:
            n, k = shape[pos], len(g)
            merged.append(n ** k)
            steps.append(1 if n <= 1 or k == 1 else (n ** k - 1) // (n - 1))
            pos += k
        if any(len(g) > 1 for g in groups):
            x = self.reshape(x, tuple(merged))
            x = x[tuple(slice(None, None, s) for s in steps)]
        return x

    def write_diagonal(self, x, shape, groups):
        """The transpose of :meth:`diagonal`: zeros of ``shape`` with ``x`` (one axis per
        group) written onto the diagonals. Generic: each group's axis is padded with
        ``step - 1`` zeros per element and cut to ``n**k``, then the groups are split back
        into their axes (no ``setitem``; an ``inf`` stays an ``inf``)."""
        order = [i for g in groups for i in g]
        for a, g in enumerate(groups):
            n, k = shape[g[0]], len(g)
            if k == 1 or n <= 1:
                continue
            step = (n ** k - 1) // (n - 1)
            lead, tail = tuple(x.shape[:a]), tuple(x.shape[a + 1:])
            pad = self.zeros(lead + (n, step - 1) + tail, dtype=x.dtype, device=self.device(x))
            y = self.concat([self.expand_dims(x, axis=a + 1), pad], axis=a + 1)
            y = self.reshape(y, lead + (n * step,) + tail)
            x = y[(slice(None),) * a + (slice(0, n ** k), Ellipsis)]
        x = self.reshape(x, tuple(shape[i] for i in order))
        if order != list(range(len(order))):
            inverse = [0] * len(order)
            for pos, i in enumerate(order):
                inverse[i] = pos
            x = self.permute_dims(x, tuple(inverse))
        return x

    def scatter_add(self, g, index, shape):
        """Zeros of ``shape`` with ``g`` added at ``index`` (a normalised tuple of slices,
        ints, None, Ellipsis and integer arrays); repeated positions accumulate.

        Generic: basic indices are written with ``__setitem__`` into zeros; integer arrays
        become flat positions, and the addition a product with a 0/1 matrix (exact: each
        element of ``g`` meets one 1 per position it is added to).
        """
        if not any(_is_index_array(k) for k in index):
            out = self.zeros(tuple(shape), dtype=g.dtype, device=self.device(g))
            out[tuple(k for k in index if k is not None)] = self.reshape(
                g, basic_region_shape(index, g.shape))
            return out
        size = math.prod(shape)
        flat = self.reshape(self.flat_positions(index, shape, g), (-1, 1))
        one_hot = self.astype(self.equal(flat, self.reshape(
            self.arange(size, device=self.device(g)), (1, -1))), g.dtype)
        total = self.matmul(self.reshape(g, (1, -1)), one_hot)
        return self.reshape(total, tuple(shape))

    def flat_positions(self, index, shape, like):
        """The flat position in ``shape`` of each element of ``x[index]`` (an integer array
        shaped like ``x[index]``), on ``like``'s device."""
        pos = self.reshape(self.arange(math.prod(shape), device=self.device(like)),
                           tuple(shape))
        return pos[index]

    # ------------------------------------------------------------------ memory, host

    def owner(self, x):
        """A key of the memory ``x`` lives in (two arrays with one key may alias), or None
        when arrays of this library are immutable."""
        return id(x)

    def readonly(self, x) -> bool:
        return False

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    def to_numpy(self, x):
        """A NumPy copy of ``x`` on the host (for reports and tests)."""
        try:
            return _np.from_dlpack(x)
        except (TypeError, AttributeError, RuntimeError, BufferError):
            return _np.asarray(x)

    def from_numpy(self, a, like=None):
        """NumPy array ``a`` as an array of this library (on ``like``'s device)."""
        dev = None if like is None else self.device(like)
        return self.xp.asarray(a, dtype=self.dtype(_np.asarray(a).dtype), device=dev)

    def quiet(self):
        """A context in which IEEE warnings (log of 0, 0/0) are not raised."""
        return contextlib.nullcontext()


def _hashable(x) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _dtype_name(spec) -> str:
    """A dtype's standard name from any spelling (numpy dtype or type, string, torch)."""
    if isinstance(spec, str):
        name = spec
    else:
        name = getattr(spec, "name", None) or getattr(spec, "__name__", None) or str(spec)
    name = str(name).replace("torch.", "")
    try:
        name = _np.dtype(name).name
    except TypeError:
        pass
    return {"bool_": "bool", "float": "float64", "int": "int64", "complex": "complex128"}.get(
        name, name)


def _is_index_array(k) -> bool:
    return not (k is None or k is Ellipsis or isinstance(k, (slice, int)))


def basic_region_shape(index, result_shape) -> tuple:
    """The shape of the region a basic ``index`` (no integer arrays) selects, from the shape
    of ``x[index]``: that shape without the size-1 axes its None entries added."""
    slices = sum(1 for k in index if isinstance(k, slice))
    nones = sum(1 for k in index if k is None)
    spanned = len(result_shape) - slices - nones  # axes under the Ellipsis (or trailing)
    drop, axis = set(), 0
    for k in index:
        if k is Ellipsis:
            axis += spanned
        elif k is None:
            drop.add(axis)
            axis += 1
        elif isinstance(k, slice):
            axis += 1
    return tuple(d for i, d in enumerate(result_shape) if i not in drop)
