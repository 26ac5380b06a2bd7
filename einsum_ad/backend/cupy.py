"""The CuPy backend: ``cupy.ndarray`` on CUDA devices, through the generic path.

CuPy mirrors NumPy's API and uses NumPy's dtype objects, so this module is small: the
namespace is array-api-compat's ``cupy`` wrapper when installed (else ``cupy`` itself,
whose main namespace follows NumPy 2 and the standard from CuPy 13 on), the hot path is
bound to CuPy's own callables and array methods (``x.transpose``, ``x.reshape``,
``cupy.matmul``, ``x.sum``), and dtypes, promotion and casting are NumPy's (the NumPy
backend's methods, shared). The kernels:

* diagonals: ``cupy.lib.stride_tricks.as_strided`` views (strides in bytes, as NumPy);
  a diagonal write assigns through such a view of zeros;
* scatter-add (the VJP of indexing): ``cupyx.scatter_add``, which accumulates repeated
  indices like ``numpy.add.at``; with an integer-array index it runs on CUDA's atomicAdd,
  so float16/32/64 go there directly, complex values as their real and imaginary parts,
  and the other dtypes take the generic path;
* constants and host copies on the operand's device (``with x.device:``, CuPy's current
  device); ``to_numpy`` is ``cupy.asnumpy``;
* the namespace's kernels (issue 10) in CuPy's own terms where the generic path would go
  through a wrapper or a slower formula: scans (``cupy.cumsum``/``cumprod``, reversed
  through flipped views), the linear recurrence in place, sorts (CuPy's are stable, so a
  stable descending sort is a sort of the flipped array), inverse permutations by
  ``put_along_axis``, ``reshape(copy=)``, ``cupy.around``, ``eigh``/``eigvalsh`` with
  ``UPLO``, and triangular solves by ``cupyx.scipy.linalg.solve_triangular``.

CuPy arrays have no read-only flag: a view with a 0 stride on an axis longer than 1 (a
broadcast) counts as read-only, so a derivative that is one is copied before it is
handed out. Reductions return 0-d arrays, never scalars, and nothing warns on IEEE
events, so ``finish`` and ``quiet`` do nothing.
"""

from __future__ import annotations

import contextlib
from operator import methodcaller

import cupy
import cupyx
import numpy as np
from cupy.lib.stride_tricks import as_strided

from ._base import Backend
from .numpy import NumpyBackend

__all__ = ["CupyBackend", "make"]

_NUMPY_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float16", "float32", "float64", "complex64", "complex128")
_ATOMIC = frozenset(np.dtype(d) for d in ("float16", "float32", "float64", "int32",
                                           "uint32", "uint64"))


def _on(device):
    """The context making ``device`` CuPy's current device (nothing for None)."""
    return contextlib.nullcontext() if device is None else device


def _matmul(a, b):
    if a.dtype == np.bool_ and b.dtype == np.bool_:  # as numpy: a logical or of ands
        return cupy.matmul(a.astype(np.int64), b.astype(np.int64)) != 0
    return cupy.matmul(a, b)


class CupyBackend(Backend):
    """CuPy arrays: NumPy's dtypes and rules, CuPy's kernels, the operand's device."""

    name = "cupy"
    einsum = staticmethod(lambda subscripts, *arrays: cupy.einsum(subscripts, *arrays))

    # CuPy's dtypes are NumPy's: the NumPy backend's dtype methods apply unchanged
    dtype = NumpyBackend.dtype
    dtype_name = NumpyBackend.dtype_name
    dtype_kind = NumpyBackend.dtype_kind
    itemsize = NumpyBackend.itemsize
    real_dtype = NumpyBackend.real_dtype
    complex_dtype = NumpyBackend.complex_dtype
    inexact_dtype = NumpyBackend.inexact_dtype
    weak_dtype = NumpyBackend.weak_dtype
    sum_dtype = NumpyBackend.sum_dtype
    can_cast = NumpyBackend.can_cast

    def __init__(self, xp):
        super().__init__(xp, "cupy")
        for dname in _NUMPY_DTYPES:
            setattr(self, dname, np.dtype(dname))
        self._dtypes = {np.dtype(d): d for d in _NUMPY_DTYPES}
        self.default_float, self.default_int = np.dtype(np.float64), np.dtype(np.int64)
        self.index_dtype = np.dtype(np.intp)
        # the hot path: CuPy's callables and methods
        self.permute_dims = lambda x, axes: x.transpose(axes)
        self.reshape = lambda x, shape: x.reshape(shape)
        self.matrix_transpose = lambda x: x.swapaxes(-1, -2)
        self.matmul = _matmul
        self.multiply = cupy.multiply
        self.broadcast_to = cupy.broadcast_to
        self.where = cupy.where
        self.result_type = np.result_type
        self.finfo, self.iinfo = np.finfo, np.iinfo

    # bound steps: CuPy's array methods, as NumPy's
    def permuter(self, axes):
        return methodcaller("transpose", tuple(axes))

    def reshaper(self, shape):
        return methodcaller("reshape", tuple(shape))

    def transposer(self):
        return methodcaller("swapaxes", -1, -2)

    def owns(self, x) -> bool:
        return isinstance(x, cupy.ndarray)

    # ------------------------------------------------------------------ constants

    def device(self, x):
        return x.device

    def const(self, value, like):
        with like.device:
            return cupy.asarray(value, dtype=like.dtype)

    def scalar(self, value, dtype, device):
        with _on(device):
            return cupy.asarray(value, dtype=dtype)

    def zeros(self, shape, dtype=None, device=None):
        with _on(device):
            return cupy.zeros(shape, dtype=dtype)

    def ones(self, shape, dtype=None, device=None):
        with _on(device):
            return cupy.ones(shape, dtype=dtype)

    def full(self, shape, fill_value, dtype=None, device=None):
        with _on(device):
            return cupy.full(shape, fill_value, dtype=dtype)

    def arange(self, *args, dtype=None, device=None, **kwargs):
        with _on(device):
            return cupy.arange(*args, dtype=dtype, **kwargs)

    def eye(self, n_rows, n_cols=None, k=0, dtype=None, device=None):
        with _on(device):
            return cupy.eye(n_rows, n_cols, k=k, dtype=dtype)

    def asarray(self, obj, dtype=None, device=None, copy=None):
        with _on(device):
            if copy is None:
                return cupy.asarray(obj, dtype=dtype)
            return self.xp.asarray(obj, dtype=dtype, copy=copy)

    # ------------------------------------------------------------------ manipulation

    def sum(self, x, axis=None, dtype=None, keepdims=False):
        return x.sum(axis=axis, dtype=dtype, keepdims=keepdims)

    def max(self, x, axis=None, keepdims=False):
        return x.max(axis=axis, keepdims=keepdims)

    def min(self, x, axis=None, keepdims=False):
        return x.min(axis=axis, keepdims=keepdims)

    def astype(self, x, dtype):
        return x.astype(dtype, copy=False)

    def concat(self, arrays, axis=0):
        return cupy.concatenate(list(arrays), axis=axis)

    def contiguous(self, x):
        return cupy.ascontiguousarray(x)

    def getitem(self, x, index):
        return x[index]  # CuPy indexes as NumPy does (negative steps, mixed arrays)

    def store(self, out, x, casting="unsafe"):
        cupy.copyto(out, x, casting=casting)

    def is_fortran(self, x) -> bool:
        return x.flags.f_contiguous and not x.flags.c_contiguous

    def with_order(self, x, order, operands=()):
        if order == "A":
            order = "F" if all(self.is_fortran(o) for o in operands) else "C"
        if order == "C":
            return cupy.ascontiguousarray(x)
        if order == "F":
            return cupy.asfortranarray(x)
        return x

    def nonzero_known(self, mask):
        return tuple(cupy.nonzero(mask))  # the lengths are read from the device

    def diagonal(self, x, groups):
        """A strided view of ``x`` with each group of axes merged (its diagonal)."""
        st = x.strides
        return as_strided(x, tuple(x.shape[g[0]] for g in groups),
                          tuple(sum(st[i] for i in g) for g in groups))

    def write_diagonal(self, x, shape, groups):
        """Zeros of ``shape`` with ``x`` assigned through a strided view of their diagonal
        (never a mask multiply: an ``inf`` stays an ``inf``)."""
        with x.device:
            out = cupy.zeros(tuple(shape), dtype=x.dtype)
        st = out.strides
        view = as_strided(out, tuple(shape[g[0]] for g in groups),
                          tuple(sum(st[i] for i in g) for g in groups))
        view[...] = x
        return out

    def scatter_add(self, g, index, shape):
        """Zeros of ``shape`` with ``g`` added at ``index`` (``cupyx.scatter_add``)."""
        if not any(isinstance(k, cupy.ndarray) for k in index):
            with g.device:
                out = cupy.zeros(tuple(shape), dtype=g.dtype)
            out[index] = g  # basic indexing never selects an element twice
            return out
        if g.dtype in _ATOMIC:
            with g.device:
                out = cupy.zeros(tuple(shape), dtype=g.dtype)
            cupyx.scatter_add(out, index, g)
            return out
        if g.dtype.kind == "c":  # atomicAdd has no complex type: the two parts apart
            re, im = self.scatter_add(g.real, index, shape), self.scatter_add(g.imag, index,
                                                                              shape)
            return (re + 1j * im).astype(g.dtype, copy=False)
        return super().scatter_add(g, index, shape)

    # ------------------------------------------------------------------ elementwise

    def round_decimals(self, x, decimals):
        """``cupy.around`` for real floating arrays (numpy's multiply, round half to even,
        divide); integers and complex arrays take the generic path."""
        if x.dtype.kind == "f":
            return cupy.around(x, decimals)
        return super().round_decimals(x, decimals)

    # ------------------------------------------------------------------ scans, orders

    def cumsum(self, x, axis, reverse=False):
        # dtype: CuPy's accumulations would widen small integers (the namespace chose)
        if reverse:  # flips are views: one pass
            return cupy.flip(cupy.cumsum(cupy.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return cupy.cumsum(x, axis=axis, dtype=x.dtype)

    def cumprod(self, x, axis, reverse=False):
        if reverse:
            return cupy.flip(cupy.cumprod(cupy.flip(x, axis), axis=axis, dtype=x.dtype), axis)
        return cupy.cumprod(x, axis=axis, dtype=x.dtype)

    def linear_recurrence(self, a, b, axis, reverse=False):
        """The doubling scan of ``_base``, in place on copies with ``axis`` first (no
        concatenation per step; each right side is computed before it is written)."""
        dt = cupy.result_type(a, b)
        a, b = cupy.moveaxis(a, axis, 0), cupy.moveaxis(b, axis, 0)
        if reverse:
            a, b = a[::-1], b[::-1]
        with b.device:  # copies of their own, on the operands' device
            a = cupy.array(cupy.broadcast_to(a, b.shape), dtype=dt)
            b = cupy.array(b, dtype=dt)
        n, d = b.shape[0], 1
        while d < n:
            b[d:] = b[d:] + a[d:] * b[:n - d]
            if 2 * d < n:
                a[d:] = a[d:] * a[:n - d]
            d *= 2
        if reverse:
            b = b[::-1]
        return cupy.moveaxis(b, 0, axis)

    def sort_indices(self, x, axis, descending=False, stable=True):
        # CuPy's sort is always stable (stable=False changes nothing)
        if not descending:
            return cupy.argsort(x, axis=axis)
        # stable descending: sort the reversed array, reverse, map positions back
        rev = cupy.argsort(cupy.flip(x, axis), axis=axis)
        return (x.shape[axis] - 1) - cupy.flip(rev, axis)

    def sort_values(self, x, axis, descending=False):
        out = cupy.sort(x, axis=axis)
        return cupy.flip(out, axis) if descending else out

    def inverse_permutation(self, perm, axis):
        """A scatter of the positions (``cupy.put_along_axis``, CuPy 13 on: each target is
        written once); the generic sort of the indices before that."""
        put = getattr(cupy, "put_along_axis", None)
        if put is None:
            return super().inverse_permutation(perm, axis)
        shape = [1] * perm.ndim
        shape[axis] = perm.shape[axis]
        with perm.device:
            pos = cupy.arange(perm.shape[axis], dtype=perm.dtype).reshape(shape)
            inv = cupy.empty_like(perm)
        put(inv, perm, cupy.broadcast_to(pos, perm.shape), axis)
        return inv

    def reshape_copy(self, x, shape, copy):
        """``copy=True``: a C-contiguous copy reshaped (a view of it); ``copy=False``: a
        view with the new shape, or ValueError where the strides allow none (CuPy's
        ``shape`` setter refuses); None: ``x.reshape``."""
        shape = _resolved(tuple(shape), x.size)
        if copy is None:
            return x.reshape(shape)
        if copy:
            return x.copy(order="C").reshape(shape)
        y = x.view()
        try:
            y.shape = shape
        except (AttributeError, ValueError) as exc:
            raise ValueError(f"cannot view an array of shape {x.shape} and strides "
                             f"{x.strides} as shape {shape}: {exc}") from None
        return y

    # ------------------------------------------------------------------ linear algebra

    def linalg_eigh(self, x, lower=True):
        """``cupy.linalg.eigh`` reading the triangle ``lower`` names (``UPLO``)."""
        res = cupy.linalg.eigh(x, UPLO="L" if lower else "U")
        return res[0], res[1]

    def linalg_eigvalsh(self, x, lower=True):
        return cupy.linalg.eigvalsh(x, UPLO="L" if lower else "U")

    def linalg_triangular_solve(self, t, b, lower):
        """``cupyx.scipy.linalg.solve_triangular`` (cuBLAS ``trsm``, reading one triangle)
        for a single matrix; a stack goes to the batched general solve of the triangle
        (solve_triangular takes stacks only from CuPy 13 on)."""
        if t.ndim == 2:
            from cupyx.scipy.linalg import solve_triangular
            dt = cupy.result_type(t, b)
            return solve_triangular(t.astype(dt, copy=False), b.astype(dt, copy=False),
                                    lower=lower)
        return cupy.linalg.solve(cupy.tril(t) if lower else cupy.triu(t), b)

    # ------------------------------------------------------------------ memory, host

    def owner(self, x):
        """The array that owns ``x``'s memory (the end of its chain of bases)."""
        b = x.base
        while b is not None:
            x = b
            b = getattr(x, "base", None)
        return id(x)

    def readonly(self, x) -> bool:
        return any(s == 0 and n > 1 for s, n in zip(x.strides, x.shape))

    def copy(self, x):
        return x.copy()

    def to_numpy(self, x):
        return cupy.asnumpy(x)

    def from_numpy(self, a, like=None):
        """NumPy array (or scalar) ``a`` copied onto ``like``'s device (the current one
        when None)."""
        with _on(None if like is None else like.device):
            return cupy.array(np.asarray(a))

    def quiet(self):
        return contextlib.nullcontext()


def _resolved(shape, size):
    """``shape`` with a -1 (at most one) replaced by the length it stands for."""
    if -1 not in shape:
        return shape
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    return tuple(size // known if known and d == -1 else (0 if d == -1 else d)
                 for d in shape)


_THE = None


def make() -> CupyBackend:
    """The CuPy backend (one per process), registered for ``cupy.ndarray``."""
    global _THE
    if _THE is None:
        try:
            import array_api_compat.cupy as xp
        except ImportError:
            xp = cupy
        from . import register
        _THE = CupyBackend(xp)
        register(_THE, cupy.ndarray)
    return _THE
