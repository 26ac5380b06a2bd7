"""Lower one contraction step onto a backend's fast kernels: BLAS matmul, broadcasts, views.

A step is a canonical Spec with one, two or (for ``optimize=False``) more operands, the
shapes and dtypes it will run on, and the backend (``einsum_ad.backend``) it runs on.
:func:`lower` turns it, once, into a callable that holds every permutation and reshape the
step needs and the backend's functions it calls; calling it does only the array work.

A two-operand step ``A,B->C`` is grouped by where each label lives:

* a label in one operand only (and not in the output) is summed first (a reduction);
* a repeated label inside an operand becomes one axis through a strided view (its diagonal);
* *batch* labels are in A, B and C; *contracted* labels in A and B only; *free* labels in
  one operand and C.

With contracted labels the step is a batched GEMM: each operand is permuted to
(batch, free, contracted) or (batch, contracted, free), whichever its memory order already
is, reshaped to 3-D (2-D without batch labels) and handed to the backend's ``matmul``, which
passes a transposed layout to BLAS as a flag instead of copying (NumPy, PyTorch, CuPy). The
operand order is chosen so that the product comes out in the output's label order when it
can. Without contracted labels the step is an elementwise or outer product: a broadcast
multiply. A batched dot
(contracted and batch labels, no free label) is the one case numpy's einsum loop beats a
stack of 1x1 GEMMs, so on backends with an einsum it stays there.

Operands of different dtypes are brought to the step's result dtype once (a sum over a
label only one operand has is taken in that dtype, as numpy's einsum does: int8 next to
int64 must not wrap), so a backend whose matmul needs equal dtypes (PyTorch) runs as well.
"""

from __future__ import annotations

import math

from .. import backend as _backend
from ..spec import Spec, label_sizes, relabel

__all__ = ["lower", "Unary", "Pairwise", "Blocked", "Nary", "Spread"]

# Smallest operand (elements) whose layout copy is avoided by splitting the GEMM instead:
# a broadcast batch of GEMMs costs little, but a batch summed after is about twice a single
# GEMM on a copy until the copy itself is large (measured: a 16^4 tensor-network step takes
# 248 us split against 117 us copied; a 64x256x256 bilinear weight 4.1 ms against 7.4 ms).
_SPLIT_MIN = 1 << 15
_SUM_SPLIT_MIN = 1 << 20


class _Prep:
    """Cast to the step's dtype, take diagonals of repeated labels, then sum the labels no
    one else needs (in the step's dtype ``dtype`` when known, else the operand's: numpy's
    einsum, where int8 next to int64 must not wrap and a sum of int8 stays int8)."""

    __slots__ = ("groups", "axes", "labels", "cast", "bk", "_sum")

    def __init__(self, sub: str, keep, bk, dtype=None, cast=None):
        uniq = list(dict.fromkeys(sub))
        self.groups = None
        if len(uniq) != len(sub):
            self.groups = tuple(tuple(i for i, c in enumerate(sub) if c == u) for u in uniq)
        self.axes = tuple(i for i, u in enumerate(uniq) if u not in keep)
        self.labels = [u for u in uniq if u in keep]
        self.cast = cast  # the step's dtype when this operand has another one, else None
        self.bk = bk
        self._sum = bk.summer(self.axes, cast if cast is not None else dtype) \
            if self.axes else None

    @property
    def noop(self) -> bool:
        return self.groups is None and not self.axes and self.cast is None

    def __call__(self, x):
        if self.cast is not None:
            x = self.bk.astype(x, self.cast)
        if self.groups is not None:
            x = self.bk.diagonal(x, self.groups)
        return x if self._sum is None else self._sum(x)


def _perm(src, dst):
    """The transpose taking labels ``src`` to order ``dst``; None when it is the identity."""
    p = tuple(src.index(lab) for lab in dst)
    return None if p == tuple(range(len(p))) else p


def _casts(bk, dtypes):
    """The step's dtype, and per operand the dtype to cast it to (None: it has it)."""
    if not dtypes or all(d == dtypes[0] for d in dtypes):
        return (dtypes[0] if dtypes else None), (None,) * len(dtypes)
    dt = bk.result_type(*dtypes)
    return dt, tuple(None if d == dt else dt for d in dtypes)


class Unary:
    """A one-operand step: diagonal views, a sum over dropped labels, a transpose."""

    __slots__ = ("prep", "perm", "kind", "_prep", "_permute")

    def __init__(self, spec: Spec, shapes, bk, dtypes=()):
        self.prep = _Prep(spec.inputs[0], set(spec.output), bk, dtypes[0] if dtypes else None)
        self.perm = _perm(self.prep.labels, spec.output)
        self.kind = "reduction" if self.prep.axes else "transpose/view"
        self._prep = None if self.prep.noop else self.prep
        self._permute = None if self.perm is None else bk.permuter(self.perm)

    def __call__(self, x):
        if self._prep is not None:
            x = self._prep(x)
        return x if self._permute is None else self._permute(x)


class Pairwise:
    """A two-operand step lowered to the backend's ``matmul`` or to a broadcast multiply."""

    __slots__ = ("prep_a", "prep_b", "mode", "kind", "perm_a", "perm_b", "shape_a",
                 "shape_b", "t_a", "t_b", "swap", "shape_r", "perm_r", "local", "sum0",
                 "any_prep", "bk", "matmul", "multiply", "sum", "einsum", "out_shape",
                 "_pa", "_ra", "_pb", "_rb", "_permute", "_reshape", "_transpose")

    def __init__(self, spec: Spec, shapes, bk, dtypes=()):
        self.t_a = self.t_b = self.swap = self.sum0 = False
        self.perm_a = self.perm_b = self.shape_a = self.shape_b = None
        self.shape_r = self.perm_r = self.local = None
        self._plan(spec, shapes, bk, dtypes)
        # a product's permutes, reshapes and transposes: the backend's functions for them
        # (Backend.product_steps), called with the step's fixed axes and shapes
        self._permute, self._reshape, self._transpose = bk.product_steps()
        # a broadcast multiply's, which may meet a library's 0-d scalars: bound once (see
        # Backend.permuter), applied in this order to a and to b
        self._pa = self._pb = self._ra = self._rb = None
        if self.mode == "mul":
            bind = lambda f, arg: None if arg is None else f(arg)
            self._pa, self._pb = bind(bk.permuter, self.perm_a), bind(bk.permuter, self.perm_b)
            self._ra, self._rb = bind(bk.reshaper, self.shape_a), bind(bk.reshaper, self.shape_b)

    def _plan(self, spec: Spec, shapes, bk, dtypes):
        sa, sb = spec.inputs
        out = spec.output
        sizes = label_sizes(spec, shapes)
        _, (cast_a, cast_b) = _casts(bk, tuple(dtypes)) if dtypes else (None, (None, None))
        da, db = (dtypes[0], dtypes[1]) if len(dtypes) == 2 else (None, None)
        self.prep_a = _Prep(sa, set(sb) | set(out), bk, da, cast=cast_a)
        self.prep_b = _Prep(sb, set(sa) | set(out), bk, db, cast=cast_b)
        self.any_prep = not (self.prep_a.noop and self.prep_b.noop)  # checked once per call
        self.bk = bk
        self.matmul, self.multiply, self.sum = bk.matmul, bk.multiply, bk.sum
        self.einsum = bk.einsum
        la, lb = self.prep_a.labels, self.prep_b.labels
        batch = [lab for lab in out if lab in la and lab in lb]
        con_a = [lab for lab in la if lab in lb and lab not in out]
        fa = [lab for lab in la if lab not in lb]
        fb = [lab for lab in lb if lab not in la]
        size = lambda labs: math.prod(sizes[lab] for lab in labs)
        # the shape of the array the step's kernel writes (matmul's or multiply's result),
        # which a compiled program may hand it as ``out=`` (None: the step cannot take one)
        self.out_shape = None
        if not con_a:
            self.out_shape = tuple(sizes[lab] for lab in out)
            self.mode = "mul"
            self.kind = "elementwise" if not fa and not fb else "outer"
            self.perm_a = _perm(la, [lab for lab in out if lab in la])
            self.perm_b = _perm(lb, [lab for lab in out if lab in lb])
            self.shape_a = tuple(sizes[lab] if lab in la else 1 for lab in out)
            self.shape_b = tuple(sizes[lab] if lab in lb else 1 for lab in out)
            # no reshape when an operand already has every output label
            self.shape_a = None if len(la) == len(out) else self.shape_a
            self.shape_b = None if len(lb) == len(out) else self.shape_b
            return
        if batch and not fa and not fb and len(spec.labels) <= 52 and size(batch) > 1 \
                and bk.einsum is not None and bk.name == "numpy":
            self.mode = "einsum"  # (no ``out``: out_shape stays None)
            self.kind = "batched dot (numpy einsum)"
            self.local = str(relabel(Spec(("".join(la), "".join(lb)), out)))
            return
        self.mode = "gemm"
        self.kind = "batched GEMM" if size(batch) > 1 else "BLAS GEMM"
        # contracted labels in the memory order of the larger operand
        big_b = size(lb) > size(la)
        con = [lab for lab in lb if lab in con_a] if big_b else con_a
        # each operand as (batch, free, contracted) "FK" or (batch, contracted, free) "KF"
        a_kf = _perm(la, batch + con + fa) is None and _perm(la, batch + fa + con) is not None
        b_fk = _perm(lb, batch + fb + con) is None and _perm(lb, batch + con + fb) is not None
        self.perm_a = _perm(la, batch + (con + fa if a_kf else fa + con))
        self.perm_b = _perm(lb, batch + (fb + con if b_fk else con + fb))
        lead = (size(batch),) if batch else ()
        m, k, n = size(fa), size(con), size(fb)
        self.shape_a = lead + ((k, m) if a_kf else (m, k))
        self.shape_b = lead + ((n, k) if b_fk else (k, n))
        # swap: compute (B^T A^T) so the product comes out as (batch, fb, fa)
        self.swap = _perm(batch + fa + fb, out) is not None and _perm(batch + fb + fa, out) is None
        # transpose flags: the left factor must be (rows, k), the right one (k, cols)
        self.t_a = a_kf != self.swap
        self.t_b = b_fk != self.swap
        rows, cols = (fb, fa) if self.swap else (fa, fb)
        self.shape_r = tuple(sizes[lab] for lab in batch + rows + cols)
        self.perm_r = _perm(batch + rows + cols, out)
        # skip the reshapes that would not change a shape (the plain matmul case)
        shape_of = lambda labs: tuple(sizes[lab] for lab in labs)
        if shape_of(batch + (con + fa if a_kf else fa + con)) == self.shape_a:
            self.shape_a = None
        if shape_of(batch + (fb + con if b_fk else con + fb)) == self.shape_b:
            self.shape_b = None
        if lead + (size(rows), size(cols)) == self.shape_r:
            self.shape_r = None
        self.sum0 = False
        if not batch:
            self._broadcast_split(la, lb, con_a, fa, fb, out, size, shape_of) or \
                self._batch_then_sum(la, lb, fa, fb, out, size, shape_of)
        if not self.sum0:
            self.out_shape = self._product_shape(la, lb, sizes)

    def _product_shape(self, la, lb, sizes):
        """The shape of the matmul's result, from each operand's shape as it reaches it."""
        def at_matmul(labels, perm, shape, t):
            s = tuple(sizes[lab] for lab in labels)
            if perm is not None:
                s = tuple(s[i] for i in perm)
            if shape is not None:
                s = tuple(shape)
            return s[:-2] + (s[-1], s[-2]) if t else s

        a = at_matmul(la, self.perm_a, self.shape_a, self.t_a)
        b = at_matmul(lb, self.perm_b, self.shape_b, self.t_b)
        left, right = (b, a) if self.swap else (a, b)
        la_, lb_ = left[:-2], right[:-2]
        n = max(len(la_), len(lb_))
        la_, lb_ = (1,) * (n - len(la_)) + la_, (1,) * (n - len(lb_)) + lb_
        return tuple(max(x, y) for x, y in zip(la_, lb_)) + (left[-2], right[-1])

    def _broadcast_split(self, la, lb, con_a, fa, fb, out, size, shape_of):
        """Avoid copying a large operand whose free labels sit on both sides of its
        contracted block (``oij`` contracted over ``i``): make its outer free labels a
        batch of GEMMs that the other operand is broadcast against (stride 0, no copy)."""
        for big, lbig, lsmall, fsmall in ((1, lb, la, fa), (0, la, lb, fb)):
            if (self.perm_b if big else self.perm_a) is None or size(lbig) < _SPLIT_MIN:
                continue
            cset = set(con_a)
            pos = [i for i, lab in enumerate(lbig) if lab in cset]
            if pos != list(range(pos[0], pos[0] + len(pos))) or pos[0] == 0 \
                    or pos[-1] == len(lbig) - 1:
                continue  # contracted labels not one inner block
            con = lbig[pos[0]:pos[-1] + 1]
            fo, fi = lbig[:pos[0]], lbig[pos[-1] + 1:]
            s_kf = _perm(lsmall, con + fsmall) is None
            if not s_kf and _perm(lsmall, fsmall + con) is not None:
                continue  # the other operand would need a copy itself
            if size(fi) < 8 or size(fsmall) < 8:
                continue  # a batch of skinny products: the copy is cheaper
            k, mo, mi, ms = size(con), size(fo), size(fi), size(fsmall)
            shape_big, shape_small = (mo, k, mi), ((k, ms) if s_kf else (ms, k))
            if big:  # small (ms, k) @ big (mo, k, mi) -> (mo, ms, mi)
                self.shape_a, self.shape_b, self.swap = shape_small, shape_big, False
                self.t_a, self.t_b = s_kf, False
                labels = fo + fsmall + fi
            else:  # big^T (mo, mi, k) @ small (k, ms) -> (mo, mi, ms)
                self.shape_a, self.shape_b, self.swap = shape_big, shape_small, False
                self.t_a, self.t_b = True, not s_kf
                labels = fo + fi + fsmall
            self.perm_a = self.perm_b = None
            self.shape_r = shape_of(labels)
            self.perm_r = _perm(labels, out)
            self.kind = "batched GEMM (broadcast)"
            return True
        return False

    def _batch_then_sum(self, la, lb, fa, fb, out, size, shape_of):
        """Avoid copying a large operand whose free labels sit between two contracted blocks
        (``cbd`` contracted over ``c`` and ``d``): make the outer contracted labels a batch
        of GEMMs (the other operand is viewed the same way) and sum that batch after."""
        for big in (1, 0):
            lbig, lsmall, fbig, fsmall = (lb, la, fb, fa) if big else (la, lb, fa, fb)
            if (self.perm_b if big else self.perm_a) is None or size(lbig) < _SUM_SPLIT_MIN:
                continue
            pos = [i for i, lab in enumerate(lbig) if lab in fbig]
            if not pos or pos != list(range(pos[0], pos[0] + len(pos))) or pos[0] == 0 \
                    or pos[-1] == len(lbig) - 1:
                continue
            co, ci = lbig[:pos[0]], lbig[pos[-1] + 1:]
            blockf = lbig[pos[0]:pos[-1] + 1]
            if min(size(co), size(ci) // 4, size(fsmall) // 4, size(blockf) // 4) < 2:
                continue  # skinny products: the copy is cheaper
            nco, nci, ms, mb = size(co), size(ci), size(fsmall), size(blockf)
            perm_small = _perm(lsmall, co + fsmall + ci)  # a view, BLAS-able inner matrices
            if big:  # small (nco, ms, nci) @ big^T (nco, nci, mb) -> (nco, ms, mb)
                self.perm_a, self.shape_a, self.t_a = perm_small, (nco, ms, nci), False
                self.perm_b, self.shape_b, self.t_b = None, (nco, mb, nci), True
                labels = fsmall + blockf
            else:  # big (nco, mb, nci) @ small^T (nco, nci, ms) -> (nco, mb, ms)
                self.perm_a, self.shape_a, self.t_a = None, (nco, mb, nci), False
                self.perm_b, self.shape_b, self.t_b = perm_small, (nco, ms, nci), True
                labels = blockf + fsmall
            if shape_of(co + fsmall + ci) == (nco, ms, nci):
                if big:
                    self.shape_a = None
                else:
                    self.shape_b = None
            self.swap, self.sum0 = False, True
            self.shape_r = shape_of(labels)
            self.perm_r = _perm(labels, out)
            self.kind = "batched GEMM + sum"
            return True
        return False

    def __call__(self, a, b, out=None):
        """The step on ``a`` and ``b``; ``out`` (of shape ``out_shape``, the step's dtype) is
        written by the kernel when the backend's function takes it (a compiled program's
        reused memory): the result is then ``out`` or a view of it."""
        if self.any_prep:
            if not self.prep_a.noop:
                a = self.prep_a(a)
            if not self.prep_b.noop:
                b = self.prep_b(b)
        mode = self.mode
        if mode == "gemm":
            permute, reshape = self._permute, self._reshape
            if self.perm_a is not None:
                a = permute(a, self.perm_a)
            if self.shape_a is not None:
                a = reshape(a, self.shape_a)
            if self.t_a:
                a = self._transpose(a)
            if self.perm_b is not None:
                b = permute(b, self.perm_b)
            if self.shape_b is not None:
                b = reshape(b, self.shape_b)
            if self.t_b:
                b = self._transpose(b)
            if out is None:
                r = self.matmul(b, a) if self.swap else self.matmul(a, b)
            else:
                r = self.matmul(b, a, out=out) if self.swap else self.matmul(a, b, out=out)
            if self.sum0:
                r = self.sum(r, axis=0, dtype=r.dtype)
            if self.shape_r is not None:
                r = reshape(r, self.shape_r)
            return r if self.perm_r is None else permute(r, self.perm_r)
        if mode == "mul":
            if self._pa is not None:
                a = self._pa(a)
            if self._pb is not None:
                b = self._pb(b)
            if self._ra is not None:
                a = self._ra(a)
            if self._rb is not None:
                b = self._rb(b)
            return self.multiply(a, b) if out is None else self.multiply(a, b, out=out)
        return self.einsum(self.local, a, b)


class Blocked:
    """A two-operand step on a backend of chunked arrays (Dask): one blockwise operation.

    The step is lowered for the chunks' own library (a :class:`Pairwise` on NumPy blocks:
    BLAS GEMM, broadcast multiply) and the backend's ``contract_blocks`` runs it on every
    combination of blocks, then sums over the blocks of the contracted labels. No reshape
    merges chunked axes, so nothing is rechunked: the graph holds one task per combination
    of blocks and the sum's tree. Diagonals and lone labels are taken first, lazily.
    """

    __slots__ = ("prep_a", "prep_b", "any_prep", "labels_a", "labels_b", "out", "dtype",
                 "kernel", "kind", "bk")

    def __init__(self, spec: Spec, shapes, bk, dtypes=()):
        sa, sb = spec.inputs
        out = spec.output
        dt, (cast_a, cast_b) = _casts(bk, tuple(dtypes)) if dtypes else (None, (None, None))
        self.prep_a = _Prep(sa, set(sb) | set(out), bk, cast=cast_a)
        self.prep_b = _Prep(sb, set(sa) | set(out), bk, cast=cast_b)
        self.any_prep = not (self.prep_a.noop and self.prep_b.noop)
        self.labels_a, self.labels_b = "".join(self.prep_a.labels), "".join(self.prep_b.labels)
        self.out, self.dtype, self.bk = out, dt, bk
        inner = Spec((self.labels_a, self.labels_b), out)
        self.kernel = BlockStep(inner, bk.chunk_backend)
        sizes = label_sizes(spec, shapes)
        whole = Pairwise(inner, [tuple(sizes[lab] for lab in s) for s in inner.inputs],
                         _backend.get(bk.chunk_backend), (dt, dt) if dt is not None else ())
        self.kind = whole.kind  # the kernel each block runs (explain: as on NumPy)

    def __call__(self, a, b):
        if self.any_prep:
            a, b = self.prep_a(a), self.prep_b(b)
        dt = self.dtype if self.dtype is not None else a.dtype
        return self.bk.contract_blocks(self.kernel, a, self.labels_a, b, self.labels_b,
                                       self.out, dt)


class BlockStep:
    """What a chunked backend runs on one combination of blocks: ``spec`` lowered onto the
    chunks' library (named ``backend``) for the blocks' shapes and dtypes, once per
    distinct pair of block shapes (edge blocks differ). Pickles as its spec and library
    name (a distributed worker lowers again) and tokenizes as them (one graph key per
    step and operands)."""

    __slots__ = ("spec", "backend", "_lowered")

    def __init__(self, spec: Spec, backend: str):
        self.spec, self.backend, self._lowered = spec, backend, {}

    def __call__(self, a, b):
        key = (a.shape, b.shape, a.dtype, b.dtype)
        run = self._lowered.get(key)
        if run is None:
            run = self._lowered[key] = Pairwise(self.spec, key[:2], _backend.get(self.backend),
                                                key[2:])
        return run(a, b)

    def __reduce__(self):
        return (BlockStep, (self.spec, self.backend))

    def __dask_tokenize__(self):
        return ("einsum_ad.BlockStep", str(self.spec), self.backend)


class Nary:
    """A step over three or more operands at once (``optimize=False``): the backend's einsum."""

    __slots__ = ("local", "kind", "einsum", "casts", "bk")

    def __init__(self, spec: Spec, shapes, bk, dtypes=()):
        if len(spec.labels) > 52:
            raise ValueError(
                f"einsum: one contraction step uses {len(spec.labels)} distinct labels; an "
                "n-ary einsum contracts at most 52 at once (choose an optimize= that "
                "contracts pairwise)"
            )
        if bk.einsum is None:
            raise ValueError(f"einsum: the {bk.name} backend has no n-ary einsum; contract "
                             "pairwise (optimize= other than False)")
        self.local = str(relabel(spec))
        self.kind = f"n-ary einsum ({bk.name})"
        self.einsum = bk.einsum
        self.bk = bk
        self.casts = _casts(bk, tuple(dtypes))[1] if dtypes else ()
        if not any(c is not None for c in self.casts):
            self.casts = ()

    def __call__(self, *arrays):
        if self.casts:
            arrays = [a if c is None else self.bk.astype(a, c) for a, c in zip(arrays,
                                                                               self.casts)]
        return self.einsum(self.local, *arrays)


class Spread:
    """Write ``x`` (labels ``spec.inputs[0]``, each once) into an array of ``shape`` with
    labels ``spec.output``: broadcast along new labels, onto the diagonal for repeats (the
    backend's diagonal write: never a mask multiply, so inf stays inf)."""

    __slots__ = ("perm", "inter", "shape", "groups", "diag_shape", "bk", "_permute",
                 "_reshape")

    def __init__(self, spec: Spec, shape, bk=None):
        bk = _backend.default() if bk is None else bk
        src, dst = spec.inputs[0], spec.output
        uniq = list(dict.fromkeys(dst))
        self.perm = _perm(src, [lab for lab in uniq if lab in src])
        self.shape = tuple(shape)
        self.inter = tuple(self.shape[dst.index(u)] if u in src else 1 for u in uniq)
        self.groups = None
        if len(uniq) != len(dst):
            self.groups = tuple(tuple(i for i, c in enumerate(dst) if c == u) for u in uniq)
            self.diag_shape = tuple(self.shape[g[0]] for g in self.groups)
        self.bk = bk
        # fixed per spread: x's labels, permuted into the output's order, then size-1 axes
        # for the labels x lacks (a reshape only where there are such)
        self._permute = None if self.perm is None else bk.permuter(self.perm)
        self._reshape = None if all(u in src for u in uniq) else bk.reshaper(self.inter)

    def __call__(self, x):
        if self._permute is not None:
            x = self._permute(x)
        if self._reshape is not None:
            x = self._reshape(x)
        if self.groups is None:
            return x if self.inter == self.shape else self.bk.broadcast_to(x, self.shape)
        # the backend's diagonal write broadcasts x's size-1 axes along the diagonal
        return self.bk.write_diagonal(x, self.shape, self.groups)


def lower(spec: Spec, shapes, bk=None, dtypes=()):
    """The callable that runs step ``spec`` on operands of ``shapes`` (and ``dtypes``, when
    known: operands of different dtypes are cast to the step's once) on backend ``bk``
    (default NumPy)."""
    if bk is None:
        bk = _backend.default()
    n = len(spec.inputs)
    if n == 1:
        return Unary(spec, shapes, bk, dtypes)
    if n == 2:
        if bk.contract_blocks is not None:
            return Blocked(spec, shapes, bk, dtypes)
        return Pairwise(spec, shapes, bk, dtypes)
    return Nary(spec, shapes, bk, dtypes)
