"""The NumPy backend, the default: numpy's own functions, and the fast paths NumPy allows.

NumPy (2.x) implements the array API standard in its main namespace, so most of the
vocabulary is numpy's functions themselves. Overrides: methods instead of the namespace's
Python wrappers on the hot path (``x.transpose`` is 3x faster than ``np.permute_dims``),
diagonals and broadcasts as views built on the operand's buffer (``numpy.ndarray`` on the
buffer costs a fraction of ``as_strided``'s Python wrapper), diagonal writes through a
strided view of zeros, ``numpy.add.at`` for scatter-add, a branch-free ``where`` for
boolean masks over floats, 0-d results handed out as numpy scalars (as numpy does),
numpy's own type promotion, casting rules and IEEE warnings, and SciPy's triangular solve
when SciPy is installed (``numpy.linalg`` has none).
"""

from __future__ import annotations

from operator import attrgetter, methodcaller

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._base import Backend, _dtype_name

__all__ = ["NumpyBackend", "make"]


def _strided(x, shape, strides, writeable=False):
    """``as_strided`` without its Python overhead where ``x`` exports a plain buffer."""
    try:
        y = np.ndarray(shape, x.dtype, buffer=x, strides=strides)
    except (TypeError, ValueError, BufferError):  # a strided view: the general path
        return as_strided(x, shape, strides, writeable=writeable)
    if not writeable:
        y.flags.writeable = False
    return y


_SWAP_LAST = methodcaller("swapaxes", -1, -2)
# a matrix product's steps (Backend.product_steps): ndarray's own methods, unbound (their
# operands are always exact ndarrays with at least one axis), and the ``mT`` view
_PRODUCT_STEPS = (np.ndarray.transpose, np.ndarray.reshape, attrgetter("mT"))


class NumpyBackend(Backend):
    """NumPy arrays (and numpy scalars, which NumPy's operations return for 0-d results)."""

    name = "numpy"
    values_on_host = True
    einsum = staticmethod(lambda subscripts, *arrays: np.einsum(subscripts, *arrays,
                                                                optimize=False))

    def __init__(self):
        super().__init__(np, "numpy")
        for dname in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                      "uint64", "float16", "float32", "float64", "complex64", "complex128"):
            setattr(self, dname, np.dtype(dname))
        self.default_float = np.dtype(np.float64)
        self.default_int = np.dtype(np.int_)
        self.index_dtype = np.dtype(np.intp)
        # the hot path: bound methods' speed, and they accept numpy scalars too
        self.permute_dims = lambda x, axes: x.transpose(axes)
        self.reshape = lambda x, shape: x.reshape(shape)
        self.matrix_transpose = lambda x: x.swapaxes(-1, -2)
        self.result_type = np.result_type
        self.finfo, self.iinfo = np.finfo, np.iinfo
        self.asarray = np.asarray
        self.where = _where
        self.expm1 = _expm1
        self.ndarray = np.ndarray

    def owns(self, x) -> bool:
        # exactly ndarray: its subclasses are read as plain arrays (``converts``)
        return x.__class__ is np.ndarray or isinstance(x, np.generic)

    def converts(self, x) -> bool:
        # masked arrays, np.matrix, memmaps, a user's subclass: read by np.asarray, as
        # numpy.einsum reads them (a mask is not applied; the result is a plain ndarray)
        return isinstance(x, np.ndarray) and x.__class__ is not np.ndarray

    def product_steps(self):
        return _PRODUCT_STEPS

    # bound steps: the arrays' own methods, called without a Python frame between
    def permuter(self, axes):
        return methodcaller("transpose", tuple(axes))

    def reshaper(self, shape):
        return methodcaller("reshape", tuple(shape))

    def transposer(self):
        return _SWAP_LAST

    def summer(self, axes, dtype=None):
        # a floating or complex sum keeps the operand's dtype by itself: no dtype= to pass,
        # so whatever dtype arrives is kept (integers would widen: they pass their own)
        if dtype is None or np.dtype(dtype).kind not in "fc":
            return super().summer(axes)
        return methodcaller("sum", axis=tuple(axes))

    # ------------------------------------------------------------------ dtypes

    def dtype(self, spec):
        try:
            return np.dtype(spec)
        except TypeError:
            return np.dtype(_dtype_name(spec))

    def dtype_name(self, dtype) -> str:
        return np.dtype(dtype).name

    def dtype_kind(self, dtype):
        if isinstance(dtype, np.dtype):
            return dtype.kind
        if isinstance(dtype, type) and issubclass(dtype, np.generic):
            return np.dtype(dtype).kind
        return None

    def itemsize(self, dtype) -> int:
        return np.dtype(dtype).itemsize

    def real_dtype(self, dtype):
        return np.finfo(dtype).dtype if np.dtype(dtype).kind == "c" else np.dtype(dtype)

    def complex_dtype(self, dtype):
        return np.result_type(dtype, np.complex64)

    def inexact_dtype(self, dtype):
        # numpy's ufuncs: int8 -> float16, int16 -> float32, int32/int64 -> float64
        return np.result_type(dtype, np.float16)

    def weak_dtype(self, like_dtype, scalar):
        return np.result_type(like_dtype, scalar)  # NEP 50: a Python scalar is weak

    def sum_dtype(self, dtype):
        dtype = np.dtype(dtype)
        if dtype.kind == "b" or (dtype.kind == "i" and dtype.itemsize < np.dtype(np.int_).itemsize):
            return np.dtype(np.int_)
        if dtype.kind == "u" and dtype.itemsize < np.dtype(np.uint).itemsize:
            return np.dtype(np.uint)
        return dtype

    def can_cast(self, from_, to, casting="safe") -> bool:
        return bool(np.can_cast(from_, to, casting=casting))

    # ------------------------------------------------------------------ constants

    def device(self, x):
        return "cpu"

    def const(self, value, like):
        return np.asarray(value, dtype=like.dtype)

    def scalar(self, value, dtype, device):
        return np.asarray(value, dtype=dtype)

    def zeros(self, shape, dtype=None, device=None):
        return np.zeros(shape, dtype=dtype)

    def ones(self, shape, dtype=None, device=None):
        return np.ones(shape, dtype=dtype)

    def full(self, shape, fill_value, dtype=None, device=None):
        return np.full(shape, fill_value, dtype=dtype)

    def arange(self, *args, dtype=None, device=None, **kwargs):
        return np.arange(*args, dtype=dtype, **kwargs)

    def finish(self, x):
        if x.__class__ is np.ndarray and x.ndim == 0:
            return x[()]
        return x

    def finish_view(self, x):
        return x if x.__class__ is np.ndarray else np.asarray(x)

    def round_decimals(self, x, decimals):
        return np.round(x, decimals)

    # ------------------------------------------------------------------ manipulation

    def sum(self, x, axis=None, dtype=None, keepdims=False):
        return x.sum(axis=axis, dtype=dtype, keepdims=keepdims)

    def astype(self, x, dtype):
        return x.astype(dtype, copy=False)

    def contiguous(self, x):
        return x if x.flags.c_contiguous else np.ascontiguousarray(x)

    def broadcast_to(self, x, shape):
        """``numpy.broadcast_to``; for an ``x`` of the same rank whose axes are 1 or full
        size, a read-only view built on its buffer without broadcast_to's Python overhead."""
        shape = tuple(shape)
        if x.__class__ is not np.ndarray or x.ndim != len(shape):
            return np.broadcast_to(x, shape)
        strides = tuple(0 if d != s else st for d, s, st in zip(x.shape, shape, x.strides))
        try:
            y = np.ndarray(shape, x.dtype, buffer=x, strides=strides)
        except (TypeError, ValueError, BufferError):  # no plain buffer: the slow path
            return np.broadcast_to(x, shape)
        y.flags.writeable = False
        return y

    def diagonal(self, x, groups):
        """A read-only strided view of ``x`` with each group of axes merged (a diagonal)."""
        x = np.asarray(x)
        st = x.strides
        shape = tuple(x.shape[g[0]] for g in groups)
        strides = tuple(sum(st[i] for i in g) for g in groups)
        return _strided(x, shape, strides)

    def write_diagonal(self, x, shape, groups):
        """Zeros of ``shape`` with ``x`` written through a strided view of their diagonal
        (never a mask multiply: an ``inf`` stays an ``inf``)."""
        x = np.asarray(x)
        out = np.zeros(shape, dtype=x.dtype)
        st = out.strides
        view = _strided(out, tuple(shape[g[0]] for g in groups),
                        tuple(sum(st[i] for i in g) for g in groups), writeable=True)
        view[...] = x
        return out

    def scatter_add(self, g, index, shape):
        g = np.asarray(g)
        out = np.zeros(shape, dtype=g.dtype)
        if any(isinstance(k, np.ndarray) for k in index):
            np.add.at(out, index, g)  # repeated indices accumulate
        else:
            out[index] = g  # basic indexing never selects an element twice
        return out

    def add_region(self, target, index, value):
        region = target[index + (Ellipsis,)]  # a view (also of a 0-d array): no temporary
        np.add(region, value, out=region)
        return target

    def getitem(self, x, index):
        return np.asarray(x)[index]

    def store(self, out, x, casting="unsafe"):
        np.copyto(out, x, casting=casting)

    def is_fortran(self, x) -> bool:
        return isinstance(x, np.ndarray) and x.flags.f_contiguous and not x.flags.c_contiguous

    def with_order(self, x, order, operands=()):
        if order == "A":  # Fortran only if every operand is
            order = "F" if all(o.flags.f_contiguous and not o.flags.c_contiguous
                               for o in operands) else "C"
        if order == "C":
            return np.ascontiguousarray(x)
        if order == "F":
            return np.asfortranarray(x)
        return x

    # ------------------------------------------------------------------ scans, orders

    def cumsum(self, x, axis, reverse=False):
        # dtype: numpy's accumulations would widen small integers (the namespace chose)
        if reverse:  # flips are views: one pass
            return np.flip(np.cumsum(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return np.cumsum(x, axis=axis, dtype=x.dtype)

    def cumprod(self, x, axis, reverse=False):
        if reverse:
            return np.flip(np.cumprod(np.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return np.cumprod(x, axis=axis, dtype=x.dtype)

    def linear_recurrence(self, a, b, axis, reverse=False):
        """The doubling scan of ``_base``, in place on copies with ``axis`` first (no
        concatenation per step)."""
        dt = np.result_type(a, b)
        a = np.moveaxis(np.asarray(a), axis, 0)
        b = np.moveaxis(np.asarray(b), axis, 0)
        if reverse:
            a, b = a[::-1], b[::-1]
        a = np.array(np.broadcast_to(a, b.shape), dtype=dt)
        b = np.array(b, dtype=dt)
        n, d = b.shape[0], 1
        while d < n:
            b[d:] = b[d:] + a[d:] * b[:n - d]  # the right side is evaluated first
            if 2 * d < n:
                a[d:] = a[d:] * a[:n - d]
            d *= 2
        if reverse:
            b = b[::-1]
        return np.moveaxis(b, 0, axis)

    def sort_indices(self, x, axis, descending=False, stable=True):
        kind = "stable" if stable else None  # numpy's default (introsort) is 3x faster
        if not descending:
            return np.argsort(x, axis=axis, kind=kind)
        # stable descending: sort the reversed array stably, reverse, map positions back
        n = x.shape[axis]
        rev = np.argsort(np.flip(x, axis), axis=axis, kind=kind)
        return (n - 1) - np.flip(rev, axis)

    def sort_values(self, x, axis, descending=False):
        out = np.sort(x, axis=axis)
        return np.flip(out, axis) if descending else out

    def inverse_permutation(self, perm, axis):
        """A scatter of the positions (``put_along_axis``): O(n), not a sort."""
        perm = np.asarray(perm)
        shape = [1] * perm.ndim
        shape[axis] = perm.shape[axis]
        pos = np.broadcast_to(np.arange(perm.shape[axis], dtype=perm.dtype).reshape(shape),
                              perm.shape)
        inv = np.empty_like(perm)
        np.put_along_axis(inv, perm, pos, axis)
        return inv

    def take_along(self, x, indices, axis):
        return np.take_along_axis(np.asarray(x), indices, axis=axis)

    def reshape_copy(self, x, shape, copy):
        return np.reshape(x, tuple(shape), copy=copy)

    # ------------------------------------------------------------------ memory, host

    def owner(self, x):
        """The object that owns ``x``'s memory (the end of its chain of bases)."""
        if not isinstance(x, np.ndarray):
            return None
        b = x.base
        while b is not None:
            x = b
            b = getattr(x, "base", None)
        return id(x)

    def readonly(self, x) -> bool:
        return isinstance(x, np.ndarray) and not x.flags.writeable

    def handout(self, x, seen):
        # Backend.handout in one frame: it runs once per derivative handed out
        if not isinstance(x, np.ndarray):
            return x  # a numpy scalar: immutable
        o, b = x, x.base
        while b is not None:
            o = b
            b = getattr(o, "base", None)
        owner = id(o)
        if owner in seen or not x.flags.writeable:
            x = np.array(x)
            owner = id(x)
        seen.add(owner)
        return x

    def copy(self, x):
        return np.array(x)

    def to_numpy(self, x):
        return np.asarray(x)

    def from_numpy(self, a, like=None):
        return np.asarray(a)

    def quiet(self):
        return np.errstate(divide="ignore", invalid="ignore", over="ignore")

    # ------------------------------------------------------------------ linear algebra

    def linalg_eigh(self, x, lower=True):
        """``numpy.linalg.eigh`` reading the triangle numpy's ``UPLO`` names, so that the
        eigenvectors are numpy's own (their signs depend on the triangle LAPACK reads)."""
        res = np.linalg.eigh(x, UPLO="L" if lower else "U")
        return res[0], res[1]

    def linalg_eigvalsh(self, x, lower=True):
        return np.linalg.eigvalsh(x, UPLO="L" if lower else "U")

    def linalg_triangular_solve(self, t, b, lower):
        """SciPy's triangular solve (LAPACK ``trtrs``: O(M²K), reading one triangle) for a
        single matrix when SciPy is installed; a stack goes to ``numpy.linalg.solve`` of the
        triangle (batched LU), which beats a Python loop of small solves."""
        if t.ndim == 2:
            solve_triangular = _scipy_solve_triangular()
            if solve_triangular is not None:
                return solve_triangular(t, b, lower=lower, check_finite=False)
        return np.linalg.solve(np.tril(t) if lower else np.triu(t), b)

    # ------------------------------------------------------------------ compiled programs

    def out_kernel(self, fname):
        """numpy's ufunc of that name (``matmul`` included): every ufunc takes ``out=``."""
        f = getattr(np, fname, None)
        return f if isinstance(f, np.ufunc) else None


def _where(c, x, y):
    """``numpy.where``, bit for bit; for a boolean mask over float32/float64 arrays it
    selects with integer masks instead, since numpy's branchy loop costs ~3 ns per element
    on a random mask (200 us for 128x512, against 10-30 us)."""
    c, x, y = np.asarray(c), np.asarray(x), np.asarray(y)
    ity = {4: np.int32, 8: np.int64}.get(x.dtype.itemsize)
    if (c.dtype != np.bool_ or x.dtype != y.dtype or x.dtype.kind != "f" or ity is None
            or c.shape != x.shape or y.shape not in ((), x.shape) or x.size < 4096):
        return np.where(c, x, y)
    if y.shape == () and not y.view(ity):  # y is +0.0: x's bits times 0 or 1, one pass
        return np.multiply(x.view(ity), c.view(np.uint8), dtype=ity).view(x.dtype)
    m = c.astype(ity)
    np.negative(m, out=m)  # all ones where c, zeros elsewhere
    out = np.bitwise_and(m, x.view(ity))
    np.invert(m, out=m)
    np.bitwise_and(m, np.broadcast_to(y, x.shape).view(ity), out=m)
    np.bitwise_or(out, m, out=out)
    return out.view(x.dtype)


_SCIPY = []


def _scipy_solve_triangular():
    """``scipy.linalg.solve_triangular``, or None without SciPy (imported on first use)."""
    if not _SCIPY:
        try:
            from scipy.linalg import solve_triangular
        except ImportError:
            solve_triangular = None
        _SCIPY.append(solve_triangular)
    return _SCIPY[0]


def _expm1(x):
    """``numpy.expm1``; for complex ``x = a + bj`` the standard's special cases, which
    numpy's complex loop misses (``expm1(inf + 0j)`` is ``inf + 0j``, not ``inf + nanj``;
    ``expm1(-inf + infj)`` is ``-1 + 0j``): ``expm1(a) cos(b) - 2 sin(b/2)**2`` (accurate
    near 0) and ``exp(a) sin(b)``, with the infinities of ``a`` and the zeros of ``b``
    set apart. Real ``x``: numpy's own, bit for bit."""
    x = np.asarray(x) if not isinstance(x, np.generic) else x
    if x.dtype.kind != "c":
        return np.expm1(x)
    a, b = x.real, x.imag
    with np.errstate(invalid="ignore", over="ignore"):
        s = np.sin(b / 2)
        re = np.expm1(a) * np.cos(b) - 2 * s * s + 0.0  # + 0.0: expm1(-0 + 0j) is +0
        im = np.where(b == 0, b, np.exp(a) * np.sin(b))
        re = np.where(a == -np.inf, -1.0, np.where((a == np.inf) & ~np.isfinite(b), np.inf,
                                                     re))
        im = np.where((a == -np.inf) & ~np.isfinite(b), 0.0, im)
    out = np.empty(np.shape(x), dtype=x.dtype)
    out.real, out.imag = re, im
    return out if out.ndim else out[()]


_THE = None


def make() -> NumpyBackend:
    """The NumPy backend (one per process), registered for ndarray and numpy's scalars."""
    global _THE
    if _THE is None:
        from . import register
        _THE = NumpyBackend()
        register(_THE, np.ndarray, *{type(np.dtype(c).type(0)) for c in
                                     "?bBhHiIlLqQefdgFDG"})
    return _THE
