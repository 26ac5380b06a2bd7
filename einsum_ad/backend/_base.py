"""The generic backend: the engine's vocabulary over any Python array API namespace.

A :class:`Backend` binds every function of the standard's namespace that the library has
under its standard name (``b.matmul``, ``b.permute_dims``, ``b.sum``, ...), and implements
on top of the standard alone what the engine needs beyond it: constants like an operand,
dtype kinds and weak scalar promotion, diagonal views and writes, scatter-add, memory
ownership. A library module subclasses it and overrides what it can do faster.
"""

from __future__ import annotations

import collections
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

UniqueAllResult = collections.namedtuple(
    "UniqueAllResult", ["values", "indices", "inverse_indices", "counts"])

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
        untracked: for a library that records a graph of its own for autodiff (torch's
            autograd), a factory of the context under which it records nothing (the
            transforms run in it: einsum_ad differentiates, the library only computes);
            None for the others.
        contract_blocks: None, or for a library of chunked arrays (Dask) the method that
            runs a pairwise step blockwise (``execute.lowering.Blocked``); the step's
            kernel per block is then lowered onto the backend named ``chunk_backend``.
        has_einsum: whether ``einsum(subscripts, *arrays)`` is the library's own n-ary
            einsum (else None is bound and n-ary steps are contracted pairwise).
        float32, float64, complex64, complex128, bool, int64, ...: the library's dtypes.
        default_float, default_int, index_dtype: what Python floats, ints and indices become.
    """

    name = "array_api"
    lazy = False
    values_on_host = False  # numpy: values may be read for warnings at no cost
    einsum = None
    untracked = None
    contract_blocks = None  # chunked arrays: a pairwise step as one blockwise operation
    chunk_backend = None  # ... whose blocks are arrays of this backend (by name)

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
        # this library's dtype objects by (type, hash) (comparing another library's dtype
        # with them may warn or be refused: array-api-strict), and their standard names
        self._dtypes = {_dtype_key(getattr(xp, d)): d for d in DTYPE_NAMES
                        if getattr(xp, d, None) is not None}

    def __repr__(self):
        return f"<einsum_ad backend {self.name!r}>"

    # ------------------------------------------------------------------ identity

    def owns(self, x) -> bool:
        """Whether ``x`` is an array of this library (not merely of one of its modules)."""
        return hasattr(x, "shape") and hasattr(x, "dtype")

    def converts(self, x) -> bool:
        """Whether ``x`` is no array of this library but one its ``asarray`` reads as one,
        so that ``x`` is read like a list (NumPy: the subclasses of ``ndarray``, which
        ``numpy.einsum`` reads as plain arrays too)."""
        return False

    # ------------------------------------------------------------------ bound steps
    #
    # A planned step permutes and reshapes by the same axes and shapes on every call: the
    # lowering binds them once. A library whose arrays have the methods binds them without
    # a Python frame (``operator.methodcaller``); this generic form wraps the function.

    def permuter(self, axes):
        """A one-argument callable: ``permute_dims(x, axes)`` for this fixed ``axes``."""
        permute, axes = self.permute_dims, tuple(axes)
        return lambda x: permute(x, axes)

    def reshaper(self, shape):
        """A one-argument callable: ``reshape(x, shape)`` for this fixed ``shape``."""
        reshape, shape = self.reshape, tuple(shape)
        return lambda x: reshape(x, shape)

    def transposer(self):
        """A one-argument callable: ``matrix_transpose(x)`` (the last two axes swapped)."""
        return self.matrix_transpose

    def product_steps(self):
        """``(permute, reshape, transpose)``: what a pairwise step lowered to ``matmul``
        applies to its operands and its product, called as ``permute(x, axes)``,
        ``reshape(x, shape)`` and ``transpose(x)`` (the last two axes swapped). They only
        ever meet arrays of this library with at least one axis (a product's operands keep
        the labels they contract), never a library's scalar types, so a library may bind
        its array type's own methods here, unbound (NumPy's ``ndarray.reshape``: the fastest
        call Python has for them, and :meth:`converts` keeps ndarray subclasses out)."""
        return self.permute_dims, self.reshape, self.transposer()

    def summer(self, axes, dtype=None):
        """A one-argument callable: ``sum(x, axis=axes)`` in ``x``'s own dtype (never the
        wider integer a library may sum small integers in); ``dtype``, the dtype the step
        expects when known, lets a library drop the ``dtype=`` it does not need."""
        total, axes = self.sum, tuple(axes)
        return lambda x: total(x, axis=axes, dtype=x.dtype)

    # ------------------------------------------------------------------ dtypes

    def dtype(self, spec):
        """This library's dtype for ``spec``: one of its dtypes, a NumPy dtype or type, or a
        name such as ``"float32"``."""
        if _dtype_key(spec) in self._dtypes:
            return spec
        name = _dtype_name(spec)
        found = getattr(self, name, None) if name in DTYPE_NAMES else None
        if found is None:
            raise TypeError(f"the {self.name} backend has no dtype {spec!r}")
        return found

    def dtype_name(self, dtype) -> str:
        """The standard's name of one of this library's dtypes (``"float32"``)."""
        found = self._dtypes.get(_dtype_key(dtype))
        return found if found is not None else _dtype_name(dtype)

    def dtype_kind(self, dtype):
        """``"b"``, ``"i"``, ``"u"``, ``"f"``, ``"c"`` for this library's dtypes, else None."""
        name = self._dtypes.get(_dtype_key(dtype))
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

    def scalar(self, value, dtype, device):
        """A 0-d array of ``value`` in ``dtype`` on ``device``. The device has no default:
        a constant left on the library's default device meets the operands of another
        device (a CUDA tensor, array-api-strict's second device) and fails there."""
        return self.xp.asarray(value, dtype=dtype, device=device)

    def finish(self, x):
        """What a plain result is handed to the user as (NumPy makes 0-d results scalars)."""
        return x

    def finish_view(self, x):
        """What a plain result of a view-like function (reshape, broadcast, squeeze) is
        handed out as: an array, 0-d included (NumPy's own functions return 0-d arrays
        there, not scalars)."""
        return x

    # ------------------------------------------------------------------ elementwise

    def round_decimals(self, x, decimals: int):
        """``x`` rounded to ``decimals`` decimal places (negative: to tens, hundreds, ...),
        halves to even, as numpy's ``round``: ``round(x * 10**d) / 10**d`` (``round(x /
        10**-d) * 10**-d`` for negative ``d``). Integers are returned as they are for
        ``d >= 0`` and rounded in floating point otherwise."""
        from . import kind
        k = kind(x.dtype)
        if k in "biu":
            if decimals >= 0:
                return self.copy(x)
            y = self.round_decimals(self.astype(x, self.default_float), decimals)
            return self.astype(y, x.dtype)
        f = self.const(10.0 ** abs(decimals), x)
        if decimals >= 0:
            return self.divide(self.round(self.multiply(x, f)), f)
        return self.multiply(self.round(self.divide(x, f)), f)

    # ------------------------------------------------------------------ manipulation

    def sum(self, x, axis=None, dtype=None, keepdims=False):
        return self.xp.sum(x, axis=axis, dtype=dtype, keepdims=keepdims)

    def astype(self, x, dtype):
        return self.xp.astype(x, dtype)

    def getitem(self, x, index):
        """``x[index]`` with numpy's semantics, for a normalised ``index`` (slices, ints,
        None, Ellipsis, integer arrays of this library).

        Generic: the standard leaves out-of-bounds slice bounds, an index that covers fewer
        axes than ``x`` has, and integer arrays mixed with slices unspecified (and
        array-api-strict refuses them). So slices are clipped to their axis, a trailing
        Ellipsis is added, and an index that mixes integer arrays with anything but ints
        becomes integer arrays alone, one per axis, laid out as numpy lays out the result.
        """
        index = _explicit_index(index, tuple(x.shape))
        if not any(_is_index_array(k) for k in index):
            return x[index]
        if all(_is_index_array(k) or isinstance(k, int) for k in index):
            return x[index]
        return self._gather(x, index)

    def _gather(self, x, index):
        """``x[index]`` through integer arrays alone (``index`` explicit: one entry per axis
        or None): numpy's layout, where the broadcast shape of the integer entries (ints
        count as 0-d arrays) replaces them when they are adjacent and leads otherwise."""
        shape, axis = [], 0
        for k in index:  # None: a new axis of x, then indexed by a full slice
            if k is None:
                shape.append(1)
            else:
                shape.append(x.shape[axis])
                axis += 1
        x = self.reshape(x, tuple(shape))
        index = [slice(None) if k is None else k for k in index]
        adv = [i for i, k in enumerate(index) if not isinstance(k, slice)]
        arrays = [self.asarray(k, dtype=self.index_dtype, device=self.device(x))
                  if isinstance(k, int) else k for k in (index[i] for i in adv)]
        bshape = _broadcast_shapes([tuple(a.shape) for a in arrays])
        adjacent = adv == list(range(adv[0], adv[-1] + 1))
        slices = [i for i, k in enumerate(index) if isinstance(k, slice)]
        # the result's axes: each slice's and the advanced block's, in numpy's order
        before = [i for i in slices if i < adv[0]] if adjacent else []
        order = before + ["adv"] + [i for i in slices if i not in before]
        ndim = len(slices) + len(bshape)
        pos, q = {}, 0
        for item in order:
            pos[item] = q
            q += len(bshape) if item == "adv" else 1
        out = []
        for i, k in enumerate(index):
            if isinstance(k, slice):
                r = self.arange(*k.indices(shape[i]), dtype=self.index_dtype,
                                device=self.device(x))
                lead = pos[i]
                out.append(self.reshape(r, (1,) * lead + (-1,) + (1,) * (ndim - lead - 1)))
            else:
                a = arrays[adv.index(i)]
                a = self.reshape(a, (1,) * (len(bshape) - len(a.shape)) + tuple(a.shape))
                lead = pos["adv"]
                out.append(self.reshape(a, (1,) * lead + tuple(a.shape)
                                        + (1,) * (ndim - lead - len(bshape))))
        return x[tuple(out)]

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
        into their axes (no ``setitem``; an ``inf`` stays an ``inf``). ``x`` may have
        size-1 axes where the diagonal is longer: it is broadcast (as by every backend)."""
        diag = tuple(shape[g[0]] for g in groups)
        if tuple(x.shape) != diag:
            x = self.broadcast_to(x, diag)
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
        become flat positions, each element of ``g`` is selected into the column of its
        position (``where``, so an inf stays an inf) and the columns are summed: memory
        O(len(g) x size), for libraries without a scatter of their own.
        """
        if not any(_is_index_array(k) for k in index):
            out = self.zeros(tuple(shape), dtype=g.dtype, device=self.device(g))
            out[_explicit_index(tuple(k for k in index if k is not None), tuple(shape))] = \
                self.reshape(g, basic_region_shape(index, g.shape))
            return out
        size = math.prod(shape)
        flat = self.reshape(self.flat_positions(index, shape, g), (-1, 1))
        hits = self.equal(flat, self.reshape(self.arange(size, device=self.device(g)),
                                             (1, -1)))
        # selected, never multiplied by a 0/1 matrix: an inf stays an inf (inf * 0 is NaN)
        picked = self.where(hits, self.reshape(g, (-1, 1)), self.const(0, g))
        total = self.sum(picked, axis=0)
        return self.reshape(total, tuple(shape))

    def flat_positions(self, index, shape, like):
        """The flat position in ``shape`` of each element of ``x[index]`` (an integer array
        shaped like ``x[index]``), on ``like``'s device."""
        pos = self.reshape(self.arange(math.prod(shape), device=self.device(like)),
                           tuple(shape))
        return self.getitem(pos, index)

    # ------------------------------------------------------------------ scans, orders, fft

    def cumsum(self, x, axis, reverse=False):
        """The inclusive cumulative sum along ``axis`` (non-negative), from the last element
        backwards when ``reverse``, in ``x``'s dtype."""
        if reverse:
            return self.flip(self.cumulative_sum(self.flip(x, axis=axis), axis=axis,
                                                 dtype=x.dtype), axis=axis)
        return self.cumulative_sum(x, axis=axis, dtype=x.dtype)

    def cumprod(self, x, axis, reverse=False):
        """The inclusive cumulative product along ``axis``, like :meth:`cumsum`."""
        if reverse:
            return self.flip(self.cumulative_prod(self.flip(x, axis=axis), axis=axis,
                                                  dtype=x.dtype), axis=axis)
        return self.cumulative_prod(x, axis=axis, dtype=x.dtype)

    def linear_recurrence(self, a, b, axis, reverse=False):
        """``s[k] = a[k] s[k-1] + b[k]`` along ``axis`` with ``s[-1] = 0`` (``reverse``:
        ``s[k] = a[k] s[k+1] + b[k]`` from the end); ``a`` and ``b`` of one shape and dtype.

        Generic: the doubling (Hillis-Steele) scan of the affine maps ``s -> a s + b``,
        ``ceil(log2 n)`` steps of slices, products and concatenations. No division, so it
        is exact where ``a`` holds zeros (the derivative of a cumulative product).
        """
        if reverse:
            a, b = self.flip(a, axis=axis), self.flip(b, axis=axis)
        n = b.shape[axis]
        lead = (slice(None),) * axis

        def part(x, lo, hi):
            return x[lead + (slice(lo, hi), Ellipsis)]

        d = 1
        while d < n:
            tail = part(a, d, n)
            b = self.concat([part(b, 0, d), self.add(part(b, d, n),
                                                     self.multiply(tail, part(b, 0, n - d)))],
                            axis=axis)
            if 2 * d < n:  # the spans' products, for the next, longer step
                a = self.concat([part(a, 0, d), self.multiply(tail, part(a, 0, n - d))],
                                axis=axis)
            d *= 2
        return self.flip(b, axis=axis) if reverse else b

    def sort_indices(self, x, axis, descending=False, stable=True):
        """The sorting permutation along ``axis``; ``stable``: ties keep their order, in
        descending order too (the standard's ``argsort``)."""
        return self.argsort(x, axis=axis, descending=descending, stable=stable)

    def sort_values(self, x, axis, descending=False):
        """``x`` sorted along ``axis`` (ascending unless ``descending``)."""
        return self.sort(x, axis=axis, descending=descending, stable=True)

    def inverse_permutation(self, perm, axis):
        """The inverse of the permutation ``perm`` holds in every lane along ``axis``
        (``inv[perm[k]] = k``). Generic: a sort of the distinct indices."""
        return self.astype(self.argsort(perm, axis=axis, stable=False), perm.dtype)

    def unique_all_by_sort(self, x):
        """The standard's ``unique_all(x)`` from a stable sort, for a namespace that lacks
        one (array-api-compat's torch namespace raises NotImplementedError): the unique
        values of the flattened ``x`` in ascending order, the index of each one's first
        occurrence, the inverse indices (``x``'s shape) and the counts. NaNs are distinct
        (``NaN != NaN`` starts a new group), and equal values (``-0.0`` and ``0.0``) keep
        the first one met, as NumPy's."""
        flat = self.reshape(x, (-1,))
        n = flat.shape[0]
        dev = self.device(x)
        order = self.astype(self.argsort(flat, stable=True), self.index_dtype)
        s = self.take(flat, order)
        if n == 0:
            empty = self.zeros((0,), dtype=self.index_dtype, device=dev)
            return UniqueAllResult(s, empty, self.reshape(empty, tuple(x.shape)), empty)
        first = self.concat([self.ones((1,), dtype=self.bool, device=dev),
                             self.not_equal(s[1:], s[:-1])])
        group = self.subtract(self.cumulative_sum(self.astype(first, self.index_dtype)),
                              self.scalar(1, self.index_dtype, dev))
        starts = self.astype(self.nonzero(first)[0], self.index_dtype)
        ends = self.concat([starts[1:], self.full((1,), n, dtype=self.index_dtype,
                                                  device=dev)])
        inverse = self.take(group, self.inverse_permutation(order, 0))
        return UniqueAllResult(self.take(s, starts), self.take(order, starts),
                               self.reshape(inverse, tuple(x.shape)),
                               self.subtract(ends, starts))

    def take_along(self, x, indices, axis):
        """``x``'s elements at ``indices`` (same rank) along ``axis``."""
        return self.take_along_axis(x, indices, axis=axis)

    def reshape_copy(self, x, shape, copy):
        """The standard's ``reshape(x, shape, copy=copy)``: ``copy=False`` raises
        ValueError where no view exists, ``copy=True`` always copies."""
        return self.xp.reshape(x, tuple(shape), copy=copy)

    def _fft_module(self):
        found = getattr(self.xp, "fft", None)
        if found is None:
            raise TypeError(f"the {self.name} backend has no FFT extension (xp.fft)")
        return found

    def fft_c2c(self, x, axes, inverse=False, norm="backward"):
        """The complex DFT of complex ``x`` over ``axes`` (the inverse when ``inverse``),
        scaled as the standard's ``norm`` says; no padding or cropping."""
        fft = self._fft_module()
        return (fft.ifftn if inverse else fft.fftn)(x, axes=tuple(axes), norm=norm)

    def fft_r2c(self, x, axis, norm="backward"):
        """The DFT of real ``x`` along ``axis``: its ``n // 2 + 1`` non-negative bins."""
        return self._fft_module().rfft(x, axis=axis, norm=norm)

    def fft_c2r(self, x, axis, n, norm="backward"):
        """The real inverse DFT of length ``n`` from ``n // 2 + 1`` bins along ``axis``
        (the imaginary parts of bin 0 and, for even ``n``, bin ``n / 2`` are ignored)."""
        return self._fft_module().irfft(x, n=n, axis=axis, norm=norm)

    # ------------------------------------------------------------------ memory, host

    def owner(self, x):
        """A key of the memory ``x`` lives in (two arrays with one key may alias), or None
        when arrays of this library are immutable."""
        return id(x)

    def readonly(self, x) -> bool:
        return False

    def copy(self, x):
        return self.xp.asarray(x, copy=True)

    def handout(self, x, seen: set):
        """``x`` as a derivative handed to the user: an array sharing memory with nothing
        whose :meth:`owner` is in ``seen`` and not read-only (a copy where it would), since
        the user may update it in place; ``seen`` gains its owner. Arrays of immutable
        libraries (no owner) are handed out as they are."""
        owner = self.owner(x)
        if owner is None:
            return x
        if self.readonly(x) or owner in seen:
            x = self.copy(x)
            owner = self.owner(x)
        seen.add(owner)
        return x

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

    # ------------------------------------------------------------------ compiled programs

    def out_kernel(self, fname):
        """The library's standard function ``fname`` (``"add"``, ``"exp"``, ``"matmul"``,
        ...) in a form that writes its result into a given array, ``f(*args, out=array)``
        with the result's shape and dtype, or None. A compiled program (``jit``) reuses
        the memory of its intermediates from call to call through these; a library
        without them (the standard has no ``out=``) allocates each result instead."""
        return None

    # ------------------------------------------------------------------ linear algebra
    #
    # The factorisations and solves the linear algebra rules are built on, over the
    # namespace's ``linalg`` extension (the standard's). Every matrix argument is a stack
    # ``(..., M, N)``; where two stacks meet (``solve``) their batch shapes are equal (the
    # caller broadcasts). Hermitian inputs are Hermitian already (the caller builds them
    # from one triangle), so it does not matter which triangle a library reads.

    def _linalg(self, fname):
        """The namespace's ``linalg.<fname>``, raising ``numpy.linalg.LinAlgError`` (the
        namespace's ``ea.linalg.LinAlgError``) where the library raises a LinAlgError of its
        own (torch's is a RuntimeError); TypeError naming the backend when absent."""
        found = getattr(getattr(self.xp, "linalg", None), fname, None)
        if found is None:
            raise TypeError(f"the {self.name} backend has no linalg.{fname} (its namespace "
                            "lacks the array API's linear algebra extension)")
        return _numpy_linalg_errors(found)

    def linalg_inv(self, x):
        """The inverse of each square matrix."""
        return self._linalg("inv")(x)

    def linalg_solve(self, a, b):
        """``X`` with ``a X = b``: ``a`` of shape (..., M, M), ``b`` of shape (..., M, K)."""
        return self._linalg("solve")(a, b)

    def linalg_triangular_solve(self, t, b, lower):
        """``X`` with ``t X = b``, reading only ``t``'s lower (or upper) triangle, diagonal
        included. Generic: a general solve of the triangle (the standard has no triangular
        solve); libraries that have one override this."""
        return self.linalg_solve(self.tril(t) if lower else self.triu(t), b)

    def linalg_cholesky(self, x):
        """The lower Cholesky factor of each Hermitian positive-definite matrix."""
        return self._linalg("cholesky")(x)

    def linalg_eigh(self, x, lower=True):
        """``(eigenvalues, eigenvectors)`` of each Hermitian matrix, eigenvalues ascending.
        ``lower``: the triangle the routine should read (``x`` is Hermitian, so either
        gives the same decomposition; a library that takes it, as NumPy's ``UPLO``, then
        returns the eigenvectors it would for that triangle). The standard has no such
        argument: the generic version ignores it."""
        res = self._linalg("eigh")(x)
        return res[0], res[1]

    def linalg_eigvalsh(self, x, lower=True):
        """The eigenvalues of each Hermitian matrix, ascending (``lower`` as for eigh)."""
        return self._linalg("eigvalsh")(x)

    def linalg_svd(self, x, full_matrices):
        """``(U, S, Vh)`` of each matrix, singular values descending."""
        res = self._linalg("svd")(x, full_matrices=full_matrices)
        return res[0], res[1], res[2]

    def linalg_svdvals(self, x):
        """The singular values of each matrix, descending."""
        return self._linalg("svdvals")(x)

    def linalg_qr(self, x, mode):
        """``(Q, R)`` of each matrix; ``mode`` is ``"reduced"`` or ``"complete"``."""
        res = self._linalg("qr")(x, mode=mode)
        return res[0], res[1]

    def linalg_det(self, x):
        """The determinant of each square matrix."""
        return self._linalg("det")(x)

    def linalg_slogdet(self, x):
        """``(sign, log|det|)`` of each square matrix."""
        res = self._linalg("slogdet")(x)
        return res[0], res[1]

    def linalg_pinv(self, x, rtol):
        """The pseudo-inverse of each matrix; singular values at most ``rtol`` times the
        largest are taken as zero (None: the standard's ``max(M, N) * eps``)."""
        return self._linalg("pinv")(x, rtol=rtol)


def _numpy_linalg_errors(f):
    """``f``, with a library's own LinAlgError (a class of that name, such as torch's
    ``torch.linalg.LinAlgError``) raised as NumPy's, which every backend raises alike."""
    def call(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except _np.linalg.LinAlgError:
            raise
        except Exception as exc:
            if type(exc).__name__.lstrip("_") != "LinAlgError":
                raise
            raise _np.linalg.LinAlgError(str(exc)) from exc
    return call


def _dtype_key(dtype):
    """A dict key for a dtype object that never compares it with another library's."""
    try:
        return (type(dtype), hash(dtype))
    except TypeError:
        return None


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


def _explicit_index(index, shape) -> tuple:
    """A normalised index with every axis named: Ellipsis (or the unindexed trailing axes)
    as full slices, and each slice's bounds clipped to its axis (a negative step's end
    before 0 as None)."""
    consumed = sum(1 for k in index if k is not None and k is not Ellipsis)
    out, axis = [], 0
    has_ellipsis = any(k is Ellipsis for k in index)
    for k in tuple(index) + (() if has_ellipsis else (Ellipsis,)):
        if k is Ellipsis:
            for _ in range(len(shape) - consumed):
                out.append(slice(None))
                axis += 1
        elif isinstance(k, slice):
            start, stop, step = k.indices(shape[axis])
            out.append(slice(start, None if stop < 0 else stop, step))
            axis += 1
        else:
            out.append(k)
            axis += k is not None
    return tuple(out)


def _broadcast_shapes(shapes) -> tuple:
    out = [1] * max((len(s) for s in shapes), default=0)
    for s in shapes:
        for i, d in enumerate(s, start=len(out) - len(s)):
            if d != 1:
                if out[i] not in (1, d):
                    raise IndexError(f"shape mismatch: index arrays of shapes {shapes} "
                                     "cannot be broadcast together")
                out[i] = d
    return tuple(out)


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
