"""The PyTorch backend: torch tensors (CPU, and CUDA where present) computed by torch's kernels.

einsum_ad traces and differentiates; torch only computes. The namespace is
array-api-compat's ``torch`` wrapper (the array API standard's functions with the
standard's signatures), and the hot path is bound to torch's own callables, which the
wrapper would only slow down: ``permute_dims`` is ``torch.permute``, ``reshape``
``torch.reshape``, ``matmul`` ``torch.matmul``, ``sum``/``max``/``min`` ``torch.sum`` /
``torch.amax`` / ``torch.amin`` with axis tuples, elementwise functions torch's own.

Semantics:

* dtypes are torch's (``torch.float32``, ...); ``dtype(spec)`` also reads NumPy dtypes and
  types, names (``"float32"``) and Python's ``float``/``int``/``complex``/``bool`` (as
  NumPy does: ``float`` is float64).
* promotion between tensors is the standard's, by dtype alone (``torch.promote_types``):
  a 0-d float64 tensor next to a float32 tensor gives float64, where torch's own operators
  would give float32 (einsum_ad's plans are made per dtype, so one rule holds for every
  primitive); Python scalars are weak and follow torch (``weak_dtype``: an int tensor times
  ``2.5`` is torch's default float dtype); integer sums accumulate in int64 as
  ``torch.sum`` does. ``matmul`` and ``einsum`` of two dtypes cast to the common one
  (torch's need equal dtypes), and bool products are computed in int64 and compared to 0.
* constants (``const``, ``scalar``, ``zeros``, ``full``, ``arange``, ``eye``) are made on
  the operand's device; NumPy arrays (cotangents, index arrays) are copied onto
  ``like``'s device by ``from_numpy``.
* diagonals are ``as_strided`` views; a diagonal write is a copy through such a view of
  zeros; the VJP of indexing with integer arrays is ``index_put_(..., accumulate=True)``
  on flat positions. Indexing follows numpy: slices with a negative step (which torch
  refuses) are taken on the flipped axis, and ints mixed with integer arrays (which torch
  applies first) become integer arrays laid out as numpy lays them out.
* the namespace's kernels are torch's own (array-api-compat's wrappers, or the generic
  formulas, would only slow them down): scans (``torch.cumsum``/``cumprod`` with
  ``dtype=``, reversed through flips), the linear recurrence of a cumulative product's
  derivative in place, stable sorts in both directions (``torch.argsort(stable=True)``),
  inverse permutations by ``scatter_``, ``take_along_dim``, ``reshape(copy=)`` (a clone,
  or a view or ValueError), ``searchsorted`` (any integer ``sorter``), ``unique_all``
  (which array-api-compat leaves out), ``torch.fft``'s transforms with ``dim=``,
  ``torch.round(decimals=)``, ``linalg.solve_triangular`` and ``eigh``/``eigvalsh`` with
  ``UPLO``.
* torch's unsigned 16-, 32- and 64-bit dtypes have few CPU kernels (not even ``add`` or
  ``less``): einsum_ad does not emulate them, so torch's own error is raised.
* memory: a tensor's owner is its storage's address; a tensor with a 0 stride on an axis
  longer than 1 (an expanded view) counts as read-only, so a derivative that is one is
  copied before it is handed out.

``requires_grad``: inside einsum_ad's transforms (``vjp``, ``grad``, ``value_and_grad``,
``jvp`` and what is built on them) and the optimizers' updates torch records nothing: they
run under ``torch.no_grad()`` (``untracked``), so results and derivatives carry no torch
graph, and training parameters that require grad does not chain the steps in torch's
graph. Measured on the CPU here: entering the context costs about 2 us per call; without
it, every torch op on a tensor that requires grad costs about 1 us more (2.6 against
1.6 us for a 8x16 multiply) and keeps its inputs alive in torch's graph as long as the
result lives (an MLP step's gradients would hold the whole forward and backward). Outside
the transforms einsum_ad's functions are torch operations like any other: on a tensor
that requires grad torch records them, so ``ea.einsum`` can stand inside a model that
``torch.autograd`` differentiates.
"""

from __future__ import annotations

import contextlib
import math
from operator import attrgetter, methodcaller

import numpy as np
import torch

from ._base import _KIND_OF_NAME, Backend, _dtype_name, _explicit_index, basic_region_shape

__all__ = ["TorchBackend", "make"]

_TORCH_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float16", "bfloat16", "float32", "float64", "complex64",
                 "complex128")

_promote = torch.promote_types
_Tensor = torch.Tensor


def _same_dtype(a, b):
    """``a`` and ``b`` in one dtype, the standard's promotion of theirs (by dtype only)."""
    da, db = a.dtype, b.dtype
    if da is db:
        return a, b
    dt = _promote(da, db)
    return (a if da is dt else a.to(dt)), (b if db is dt else b.to(dt))


def _binary(fn):
    """torch's binary ``fn`` with the standard's promotion between two tensors (torch lets
    a 0-d tensor take the other's dtype); Python scalars are passed on, weak."""
    def op(a, b):
        if isinstance(a, _Tensor) and isinstance(b, _Tensor) and a.dtype is not b.dtype:
            a, b = _same_dtype(a, b)
        return fn(a, b)
    op.__name__ = getattr(fn, "__name__", "op")
    return op


def _matmul(a, b):
    """``torch.matmul`` of tensors of any two dtypes (cast to the common one); bool in
    int64, then compared to 0 (torch has no bool GEMM)."""
    if a.dtype is not b.dtype:
        a, b = _same_dtype(a, b)
    if a.dtype is torch.bool:
        return torch.matmul(a.to(torch.int64), b.to(torch.int64)) != 0
    return torch.matmul(a, b)


def _einsum(subscripts, *arrays):
    """``torch.einsum`` over operands of any dtypes (cast to the common one; bool in
    int64, then compared to 0)."""
    dts = {a.dtype for a in arrays}
    if len(dts) > 1:
        dt = next(iter(dts))
        for d in dts:
            dt = _promote(dt, d)
        arrays = [a.to(dt) for a in arrays]
    else:
        dt = next(iter(dts)) if dts else None
    if dt is torch.bool:
        return torch.einsum(subscripts, *[a.to(torch.int64) for a in arrays]) != 0
    return torch.einsum(subscripts, *arrays)


_BITS = {torch.float16: torch.int16, torch.bfloat16: torch.int16, torch.float32: torch.int32,
         torch.float64: torch.int64}


def _where(c, x, y):
    """``torch.where``, with the standard's promotion; on the CPU, a select between a
    tensor and a 0-d +0.0 (relu's and where's VJPs) is an integer product of the tensor's
    bits and the mask, bit for bit the same (torch's CPU where is a branchy loop: ~9 ns per
    element on a random mask, 600 us for 128x512 against 50 us)."""
    if isinstance(x, _Tensor) and isinstance(y, _Tensor):
        if x.dtype is not y.dtype:
            x, y = _same_dtype(x, y)
        ity = _BITS.get(x.dtype)
        if ity is not None and c.dtype is torch.bool and c.is_cpu:
            if y.ndim == 0 and c.shape == x.shape and x.numel() >= 4096 \
                    and not x.requires_grad and y.view(ity).item() == 0:
                return torch.mul(x.view(ity), c).view(x.dtype)
            if x.ndim == 0 and c.shape == y.shape and y.numel() >= 4096 \
                    and not y.requires_grad and x.view(ity).item() == 0:
                bits = y.view(ity)
                return torch.sub(bits, torch.mul(bits, c)).view(y.dtype)
    return torch.where(c, x, y)


def _axes(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _positive_steps(x, index):
    """``x`` and ``index`` with every slice of negative step taken on the flipped axis
    (torch refuses negative steps): the same elements, in the same order."""
    if not any(isinstance(k, slice) and k.step is not None and k.step < 0 for k in index):
        return x, index
    consumed = sum(1 for k in index if k is not None and k is not Ellipsis)
    out, axis = [], 0
    for k in index:
        if k is Ellipsis:
            axis += x.ndim - consumed
        elif k is not None:
            if isinstance(k, slice) and k.step is not None and k.step < 0:
                n = x.shape[axis]
                start, stop, step = k.indices(n)
                x = torch.flip(x, (axis,))
                k = slice(n - 1 - start, n - 1 - stop, -step)
            axis += 1
        out.append(k)
    return x, tuple(out)


class TorchBackend(Backend):
    """torch tensors, through array-api-compat's namespace and torch's fast callables."""

    name = "torch"
    einsum = staticmethod(_einsum)

    def __init__(self, xp):
        super().__init__(xp, "torch")
        for dname in _TORCH_DTYPES:
            setattr(self, dname, getattr(torch, dname, None))
        self._dtypes = {getattr(torch, d): d for d in _TORCH_DTYPES
                        if getattr(torch, d, None) is not None}
        self._kinds = {dt: _KIND_OF_NAME[n] for dt, n in self._dtypes.items()}
        self.default_float = torch.get_default_dtype()
        self.default_int = self.index_dtype = torch.int64
        self._weak = {}
        # the hot path: torch's callables themselves (no wrapper between them and torch)
        self.permute_dims = torch.permute
        self.reshape = torch.reshape
        self.matrix_transpose = lambda x: x.mT
        self.matmul = _matmul
        self.broadcast_to = torch.broadcast_to
        self.where = _where
        self.result_type = self._result_type
        self.finfo, self.iinfo = torch.finfo, torch.iinfo
        for std, fn in (("add", torch.add), ("subtract", torch.sub), ("multiply", torch.mul),
                        ("divide", torch.true_divide), ("maximum", torch.maximum),
                        ("minimum", torch.minimum), ("pow", torch.pow), ("equal", torch.eq),
                        ("not_equal", torch.ne), ("less", torch.lt), ("less_equal", torch.le),
                        ("greater", torch.gt), ("greater_equal", torch.ge),
                        ("logical_and", torch.logical_and), ("logical_or", torch.logical_or),
                        ("logaddexp", torch.logaddexp), ("atan2", torch.atan2)):
            setattr(self, std, _binary(fn))
        for std, fn in (("exp", torch.exp), ("log", torch.log), ("log1p", torch.log1p),
                        ("expm1", torch.expm1), ("sqrt", torch.sqrt), ("tanh", torch.tanh),
                        ("sin", torch.sin), ("cos", torch.cos), ("sign", torch.sign),
                        ("abs", torch.abs), ("negative", torch.neg), ("square", torch.square),
                        ("isfinite", torch.isfinite), ("isnan", torch.isnan),
                        ("isinf", torch.isinf), ("logical_not", torch.logical_not),
                        ("real", torch.real), ("conj", torch.conj_physical)):
            setattr(self, std, fn)

    # bound steps: the tensor's methods, called without a Python frame between
    def permuter(self, axes):
        return methodcaller("permute", tuple(axes))

    def reshaper(self, shape):
        return methodcaller("reshape", tuple(shape))

    def transposer(self):
        return attrgetter("mT")

    def product_steps(self):
        return torch.permute, torch.reshape, attrgetter("mT")

    def owns(self, x) -> bool:
        return isinstance(x, _Tensor)

    # ------------------------------------------------------------------ dtypes

    def dtype(self, spec):
        if isinstance(spec, torch.dtype):
            return spec
        name = _dtype_name(spec)
        found = getattr(self, name, None) if name in self._dtypes.values() else None
        if found is None:
            raise TypeError(f"the torch backend has no dtype {spec!r}")
        return found

    def dtype_kind(self, dtype):
        return self._kinds.get(dtype) if isinstance(dtype, torch.dtype) else None

    def itemsize(self, dtype) -> int:
        return dtype.itemsize

    def inexact_dtype(self, dtype):
        # what torch's elementwise functions give an integer or bool tensor
        return dtype if dtype.is_floating_point or dtype.is_complex \
            else torch.get_default_dtype()

    def _result_type(self, *dtypes):
        out = None
        for d in dtypes:
            d = d if isinstance(d, torch.dtype) else d.dtype
            out = d if out is None else _promote(out, d)
        if out is None:
            raise ValueError("result_type: at least one dtype is required")
        return out

    def weak_dtype(self, like_dtype, scalar):
        """torch's dtype for a Python scalar next to a tensor of ``like_dtype``: the
        tensor's dtype unless the scalar is of a higher kind (then torch's default of
        that kind: an int tensor times 2.5 is the default float dtype)."""
        key = (like_dtype, scalar.__class__, torch.get_default_dtype())
        found = self._weak.get(key)
        if found is None:
            if not isinstance(scalar, (bool, int, float, complex)):
                raise TypeError(f"not a Python scalar: {scalar!r}")
            found = torch.result_type(torch.empty((1,), dtype=like_dtype), scalar)
            self._weak[key] = found
        return found

    def sum_dtype(self, dtype):
        """As ``torch.sum``: bool and every integer dtype accumulate in int64."""
        if dtype is torch.bool or not (dtype.is_floating_point or dtype.is_complex):
            return torch.int64
        return dtype

    def can_cast(self, from_, to, casting="safe") -> bool:
        if "bfloat16" not in (self.dtype_name(from_), self.dtype_name(to)):
            return super().can_cast(from_, to, casting)
        if casting == "unsafe":
            return True
        if casting in ("no", "equiv"):
            return from_ is to
        rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
        kf, kt = self._kinds[from_], self._kinds[to]
        if casting == "same_kind":
            return rank[kf] <= rank[kt]
        # safe: bfloat16 holds bool and 8-bit integers exactly, and is held by float32 up
        if from_ is torch.bfloat16:
            return to is torch.bfloat16 or (kt in "fc" and to.itemsize >= 4
                                             and to is not torch.float16)
        return kf == "b" or (from_.itemsize == 1 and kf in "iu") or from_ is to

    # ------------------------------------------------------------------ constants

    def device(self, x):
        return x.device

    def const(self, value, like):
        if isinstance(like, _Tensor):
            return like.new_full((), value)  # (its dtype and device, in one call)
        # a value with only a shape, dtype and device: jit's abstract arrays
        return torch.full((), value, dtype=like.dtype, device=like.device)

    def scalar(self, value, dtype, device):
        return torch.full((), value, dtype=dtype, device=device)

    def zeros(self, shape, dtype=None, device=None):
        return torch.zeros(shape, dtype=dtype, device=device)

    def ones(self, shape, dtype=None, device=None):
        return torch.ones(shape, dtype=dtype, device=device)

    def full(self, shape, fill_value, dtype=None, device=None):
        return torch.full(tuple(shape), fill_value, dtype=dtype, device=device)

    # ------------------------------------------------------------------ manipulation

    def sum(self, x, axis=None, dtype=None, keepdims=False):
        if axis is None:
            return torch.sum(x, dim=None, keepdim=keepdims, dtype=dtype)
        axis = _axes(axis)
        if axis == ():  # torch reads dim=() as every axis
            return x.to(dtype) if dtype is not None and dtype is not x.dtype else x.clone()
        return torch.sum(x, dim=axis, keepdim=keepdims, dtype=dtype)

    def max(self, x, axis=None, keepdims=False):
        if axis is None:
            return torch.amax(x, dim=(), keepdim=keepdims)
        axis = _axes(axis)
        return x.clone() if axis == () else torch.amax(x, dim=axis, keepdim=keepdims)

    def min(self, x, axis=None, keepdims=False):
        if axis is None:
            return torch.amin(x, dim=(), keepdim=keepdims)
        axis = _axes(axis)
        return x.clone() if axis == () else torch.amin(x, dim=axis, keepdim=keepdims)

    def astype(self, x, dtype):
        return x.to(dtype)

    def concat(self, arrays, axis=0):
        arrays = list(arrays)
        if axis is None:
            return torch.cat([a.reshape(-1) for a in arrays])
        return torch.cat(arrays, dim=axis)

    def contiguous(self, x):
        return x.contiguous()

    def getitem(self, x, index):
        x, index = _positive_steps(x, index)
        if any(isinstance(k, _Tensor) for k in index) and any(
                isinstance(k, int) or (isinstance(k, _Tensor) and k.ndim == 0) for k in index):
            # torch indexes with ints first, where numpy counts them among the integer
            # arrays (x[0, :, idx] is (len(idx), n) in numpy): integer arrays alone instead
            return self._gather(x, _explicit_index(index, tuple(x.shape)))
        return x[index]

    def store(self, out, x, casting="unsafe"):
        if casting != "unsafe" and not self.can_cast(x.dtype, out.dtype, casting):
            raise TypeError(f"cannot cast the result from {x.dtype} to out's {out.dtype} "
                            f"under the rule {casting!r}")
        out.copy_(x)

    def nonzero_known(self, mask):
        return torch.nonzero(mask, as_tuple=True)

    def diagonal(self, x, groups):
        """A strided view of ``x`` with each group of axes merged (its diagonal)."""
        st = x.stride()
        return x.as_strided(tuple(x.shape[g[0]] for g in groups),
                            tuple(sum(st[i] for i in g) for g in groups), x.storage_offset())

    def write_diagonal(self, x, shape, groups):
        """Zeros of ``shape`` with ``x`` copied through a strided view of their diagonal
        (never a mask multiply: an ``inf`` stays an ``inf``)."""
        out = torch.zeros(tuple(shape), dtype=x.dtype, device=x.device)
        st = out.stride()
        out.as_strided(tuple(shape[g[0]] for g in groups),
                       tuple(sum(st[i] for i in g) for g in groups)).copy_(x)
        return out

    def scatter_add(self, g, index, shape):
        """Zeros of ``shape`` with ``g`` added at ``index``: a setitem for basic indices
        (no position twice), else ``index_put_`` with accumulation on flat positions."""
        shape = tuple(shape)
        basic = not any(isinstance(k, _Tensor) for k in index) and not any(
            isinstance(k, slice) and k.step is not None and k.step < 0 for k in index)
        out = torch.zeros(shape, dtype=g.dtype, device=g.device)
        if basic:
            out[tuple(k for k in index if k is not None)] = g.reshape(
                basic_region_shape(index, tuple(g.shape)))
            return out
        pos = self.getitem(torch.arange(math.prod(shape), device=g.device).reshape(shape),
                           index)
        out.view(-1).index_put_((pos.reshape(-1),), g.reshape(-1), accumulate=True)
        return out

    # ------------------------------------------------------------------ elementwise

    def round_decimals(self, x, decimals):
        """``torch.round(x, decimals=d)`` for real floating tensors (the same multiply,
        round half to even, divide as numpy's); integers and complex tensors, which
        torch's decimals= refuses, take the generic path."""
        if x.dtype.is_floating_point:
            return torch.round(x, decimals=decimals)
        return super().round_decimals(x, decimals)

    # ------------------------------------------------------------------ scans, orders, fft

    def cumsum(self, x, axis, reverse=False):
        if reverse:  # torch has no reverse scan and its flips copy: two flips
            return torch.flip(torch.cumsum(torch.flip(x, (axis,)), axis, dtype=x.dtype),
                              (axis,))
        return torch.cumsum(x, axis, dtype=x.dtype)

    def cumprod(self, x, axis, reverse=False):
        if reverse:
            return torch.flip(torch.cumprod(torch.flip(x, (axis,)), axis, dtype=x.dtype),
                              (axis,))
        return torch.cumprod(x, axis, dtype=x.dtype)

    def linear_recurrence(self, a, b, axis, reverse=False):
        """The doubling scan of ``_base``, in place on copies with ``axis`` first (no
        concatenation per step; each right side is computed before it is written)."""
        dt = _promote(a.dtype, b.dtype)
        a, b = torch.movedim(a, axis, 0), torch.movedim(b, axis, 0)
        if reverse:
            a, b = torch.flip(a, (0,)), torch.flip(b, (0,))
        # copies of their own (clone of an expanded view is dense): written in place
        a = a.to(dt).broadcast_to(b.shape).clone(memory_format=torch.contiguous_format)
        b = b.to(dt).clone(memory_format=torch.contiguous_format)
        n, d = b.shape[0], 1
        while d < n:
            b[d:] = b[d:] + a[d:] * b[:n - d]
            if 2 * d < n:
                a[d:] = a[d:] * a[:n - d]
            d *= 2
        if reverse:
            b = torch.flip(b, (0,))
        return torch.movedim(b, 0, axis)

    def sort_indices(self, x, axis, descending=False, stable=True):
        # torch's stable sort keeps ties in their order when descending too
        return torch.argsort(x, dim=axis, descending=descending, stable=stable)

    def sort_values(self, x, axis, descending=False):
        return torch.sort(x, dim=axis, descending=descending, stable=True).values

    def inverse_permutation(self, perm, axis):
        """A scatter of the positions (``scatter_``: each target written once): O(n)."""
        n = perm.shape[axis]
        shape = [1] * perm.ndim
        shape[axis] = n
        pos = torch.arange(n, dtype=perm.dtype, device=perm.device).reshape(shape)
        return torch.empty_like(perm).scatter_(axis, perm.to(torch.int64),
                                               pos.expand(perm.shape))

    def take_along(self, x, indices, axis):
        return torch.take_along_dim(x, indices.to(torch.int64), dim=axis)

    def reshape_copy(self, x, shape, copy):
        """``copy=True``: a contiguous clone viewed as ``shape``; ``copy=False``: a view,
        or ValueError where the strides allow none; None: ``torch.reshape``."""
        shape = tuple(shape)
        if copy is None:
            return torch.reshape(x, shape)
        if copy:
            return x.clone(memory_format=torch.contiguous_format).view(shape)
        try:
            return x.view(shape)
        except RuntimeError as exc:
            raise ValueError(str(exc)) from None

    def searchsorted(self, x1, x2, side="left", sorter=None):
        """``torch.searchsorted`` (its ``sorter`` must be int64: other integers are cast)."""
        if sorter is not None and sorter.dtype is not torch.int64:
            sorter = sorter.to(torch.int64)
        return torch.searchsorted(x1, x2, side=side, sorter=sorter)

    def unique_all(self, x):
        """``(values, indices, inverse_indices, counts)`` from one ``torch.unique`` (sorted,
        NaNs distinct); the first occurrences are the smallest position per value, a
        ``scatter_reduce`` (deterministic: a minimum does not depend on the order).
        array-api-compat's torch namespace leaves this out."""
        flat = x.reshape(-1)
        values, inverse, counts = torch.unique(flat, sorted=True, return_inverse=True,
                                               return_counts=True)
        pos = torch.arange(flat.shape[0], device=x.device)
        first = torch.full(values.shape, flat.shape[0], dtype=torch.int64,
                           device=x.device).scatter_reduce_(0, inverse, pos, "amin")
        return self.xp.UniqueAllResult(values, first, inverse.reshape(x.shape), counts)

    def fft_c2c(self, x, axes, inverse=False, norm="backward"):
        return (torch.fft.ifftn if inverse else torch.fft.fftn)(x, dim=tuple(axes), norm=norm)

    def fft_r2c(self, x, axis, norm="backward"):
        return torch.fft.rfft(x, dim=axis, norm=norm)

    def fft_c2r(self, x, axis, n, norm="backward"):
        return torch.fft.irfft(x, n=n, dim=axis, norm=norm)

    # ------------------------------------------------------------------ linear algebra

    def linalg_triangular_solve(self, t, b, lower):
        """``torch.linalg.solve_triangular`` (a triangular solve reading one triangle,
        batched), not the generic general solve of the triangle."""
        if t.dtype is not b.dtype:
            t, b = _same_dtype(t, b)
        return torch.linalg.solve_triangular(t, b, upper=not lower)

    def linalg_eigh(self, x, lower=True):
        """``torch.linalg.eigh`` reading the triangle ``lower`` names (``UPLO``)."""
        res = torch.linalg.eigh(x, UPLO="L" if lower else "U")
        return res[0], res[1]

    def linalg_eigvalsh(self, x, lower=True):
        return torch.linalg.eigvalsh(x, UPLO="L" if lower else "U")

    # ------------------------------------------------------------------ memory, host

    def owner(self, x):
        """The address of ``x``'s storage (views of one tensor share it)."""
        return x.untyped_storage().data_ptr()

    def readonly(self, x) -> bool:
        """An expanded view (a 0 stride on an axis longer than 1): writing into it would
        write one element many times."""
        return any(s == 0 and n > 1 for s, n in zip(x.stride(), x.shape))

    def copy(self, x):
        return x.clone()

    def to_numpy(self, x):
        if x.dtype is torch.bfloat16:
            x = x.to(torch.float32)
        return x.numpy(force=True)

    def from_numpy(self, a, like=None):
        """A copy of NumPy array (or scalar) ``a`` as a tensor of its dtype, on ``like``'s
        device (a copy: the tensor never aliases the caller's array)."""
        t = torch.from_numpy(np.array(a, copy=True, order="C"))
        return t if like is None or like.device == t.device else t.to(like.device)

    def quiet(self):
        return contextlib.nullcontext()

    untracked = torch.no_grad


_THE = None


def make() -> TorchBackend:
    """The torch backend (one per process), registered for ``torch.Tensor``."""
    global _THE
    if _THE is None:
        try:
            import array_api_compat.torch as xp
        except ImportError as exc:
            raise RuntimeError(
                "einsum_ad's torch backend needs array-api-compat (the array API standard's "
                "namespace over torch): pip install array-api-compat") from exc
        from . import register
        _THE = TorchBackend(xp)
        register(_THE, torch.Tensor)
    return _THE
