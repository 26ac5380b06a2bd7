"""Multilinear products, each lowered to one einsum node: no derivative rule of their own.

A lowering is a few lines that build subscripts and call the einsum primitive; the generic
rule in ``subscripts.adjoint`` differentiates every one of them. Subscripts are built with
integer labels (the interleaved form), so no lowering is limited to 52 letters. Axis
permutations, diagonals and reductions are in ``axes.py``.

Complex operands: ``vdot`` and ``vecdot`` conjugate their first argument, as numpy does.
einsum cannot conjugate: a plain complex first argument is conjugated before it enters the
node, a *traced* one through one ``conj`` node first (a real array is its own conjugate).
"""

from __future__ import annotations

import math
import numbers
import operator

from .. import backend as _backend
from .. import rules
from ..core import Tracer
from ..execute import OPTIMIZER_NAMES, optimize_key, sliced_key
from ..rules import conj_p
from ..spec import normalize, parse
from ._args import (
    _BY_TYPE,
    AxisError,
    _broadcast,
    _finish,
    _kind,
    _of,
    _operands,
    _pair,
    _shape_str,
    store_out,
)

_OPTIMIZER_NAMES = frozenset(OPTIMIZER_NAMES)
_AUTO = "auto"  # the default optimize=, met by identity on the hot path
_NUMERIC_DTYPES = _backend.NUMERIC_DTYPES

__all__ = ["einsum", "matmul", "multiply", "dot", "vdot", "inner", "outer", "tensordot",
           "kron", "vecdot"]

def lower(ops, terms, output):
    """The one einsum node for integer-labelled ``terms -> output`` on ``ops``.

    Every lowering ends here: ``terms`` holds one list of labels per operand (ints, as in
    the interleaved form), ``output`` the result's labels.
    """
    spec = normalize([tuple(t) for t in terms], tuple(output), [o.shape for o in ops])
    return _finish(rules.einsum_p(*ops, spec=spec, optimize="auto"))


def _conj_first(a, fname):
    """numpy conjugates the first argument of vdot/vecdot: a plain complex array is
    conjugated before it enters the node, a traced one through one ``conj`` node (linear:
    its derivative is ``conj`` again)."""
    if _kind(a.dtype) != "c":
        return a
    if isinstance(a, Tracer):
        return conj_p(a)
    return _of(a).conj(a)


def _not_aligned(a, b, da, db):
    return ValueError(
        f"shapes {_shape_str(a.shape)} and {_shape_str(b.shape)} not aligned: "
        f"{a.shape[da]} (dim {da}) != {b.shape[db]} (dim {db})"
    )


# ------------------------------------------------------------------------------ einsum

# (subscripts string, shape of each operand) -> canonical Spec, for specs that parsed and
# normalised without error: a later call with the same key skips parse and normalize.
_SPECS = {}
_SPECS_MAX = 4096


def _remember_spec(subscripts, ops, spec):
    if len(_SPECS) >= _SPECS_MAX:
        _SPECS.clear()
    _SPECS[(subscripts,) + tuple(o.shape for o in ops)] = spec



def einsum(*operands, out=None, dtype=None, order="K", casting="safe", optimize="auto",
           checkpoint=False, memory_limit=None, executor=None):
    """Evaluate an Einstein summation; a drop-in for :func:`numpy.einsum`, and differentiable.

    Accepts explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``) subscripts, ``...``
    broadcasting, repeated indices (``"ii->i"``), and the interleaved form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``, which may use more than 52 distinct labels.
    Contraction order is chosen by opt_einsum once per (spec, shapes, dtypes, optimizer).

    Args:
        *operands: subscripts followed by the arrays, or the interleaved form.
        out: as numpy's: an array the result is written into (plain operands only).
        dtype: compute in this dtype (operands are cast under ``casting`` first).
        order: memory layout of a plain result: ``"K"`` (any), ``"C"``, ``"F"`` or ``"A"``.
        casting: numpy's casting rule for ``dtype`` and ``out`` (default ``"safe"``).
        optimize: an opt_einsum optimizer name (``"auto"``, ``"greedy"``, ``"optimal"``,
            ``"dp"``, ...), ``True`` (``"auto"``), ``False`` (one n-ary step), an explicit
            path (a list of tuples, optionally led by ``"einsum_path"``), or any
            ``opt_einsum.paths.PathOptimizer`` (``opt_einsum.RandomGreedy()``, cotengra's
            ``HyperOptimizer``), asked once per (spec, shapes, dtypes, backend) and its
            path cached (see ``einsum_ad.execute.optimize_key``). Validated here, for any
            number of operands: an unknown name raises ValueError listing the valid ones.
        checkpoint: when differentiated, keep no intermediate of the contraction for the
            backward pass but recompute them there (less memory, one more forward);
            the gradients are identical.
        memory_limit: no intermediate of more than this many elements (opt_einsum's
            meaning; ``"max_input"``: the largest operand's size), or bytes of the result's
            dtype as a string (``"2GiB"``, ``"512MB"``). Reached by the path and, where it
            cannot, by slicing: the contraction is split over a few labels and the slices
            summed (or, for output labels, placed); the backward recomputes each slice and
            accumulates the cotangents slice by slice (see ``einsum_ad.execute.slicing``).
            A limit no slicing reaches raises ValueError naming the smallest feasible one.
        executor: a ``concurrent.futures``-style executor (``submit``; a
            ``distributed.Client`` too) the slices are mapped over, forward and backward
            (each of its workers holds one slice's intermediates at a time). Traced
            operands (higher derivatives) are contracted here, slice by slice.

    Returns:
        A numpy array (a numpy scalar for a 0-d result) on plain inputs, or a traced value.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.einsum("ij,jk->ik", np.eye(2), np.ones((2, 3)))
        array([[1., 1., 1.],
               [1., 1., 1.]])
        >>> float(ea.einsum("ii", np.arange(9.0).reshape(3, 3)))
        12.0
        >>> ea.einsum("i,i->i", np.ones(2), np.ones(2), dtype=np.float32, casting="same_kind")
        array([1., 1.], dtype=float32)
        >>> x = np.ones((64, 64))
        >>> ea.einsum("ij,jk,kl->il", x, x, x, memory_limit=1024)[0, 0]  # 4 slices of 16x64
        np.float64(4096.0)
    """
    if optimize is not _AUTO and (optimize.__class__ is not str
                                  or optimize not in _OPTIMIZER_NAMES):
        optimize = optimize_key(optimize)  # the one validation of optimize=, as a cache key
    if memory_limit is not None or executor is not None:
        optimize = sliced_key(optimize, memory_limit)
        if executor is not None and not callable(getattr(executor, "submit", None)):
            raise TypeError(f"einsum: executor must have a submit(fn, *args) method (a "
                            f"concurrent.futures Executor or a distributed.Client), got "
                            f"{type(executor).__name__}")
    first = operands[0] if operands else None
    if (first.__class__ is str and dtype is None and out is None and order == "K"
            and casting == "safe" and executor is None):
        # the hot path: string subscripts on arrays (of one library, numeric dtypes) whose
        # spec was met before; anything else takes the general path below
        traced, key, bk, seen = False, [first], None, None  # seen: the last array type met
        for o in operands[1:]:
            c = o.__class__
            if c is Tracer:
                traced = True
            else:
                if c is not seen:  # operands mostly share a type: one lookup for them all
                    b = _BY_TYPE.get(c)
                    if b is not bk or b is None:
                        if bk is not None or b is None:
                            break
                        bk = b
                    seen = c
                if o.dtype not in _NUMERIC_DTYPES:
                    break
            key.append(o.shape)
        else:
            spec = _SPECS.get(tuple(key))
            if spec is not None:
                res = rules.einsum_p(*operands[1:], spec=spec, optimize=optimize,
                                     checkpoint=bool(checkpoint))
                return res if traced else bk.finish(res)
    if order not in ("K", "C", "F", "A"):
        raise ValueError(f"einsum: order must be one of 'K', 'C', 'F', 'A', got {order!r}")
    if casting not in ("no", "equiv", "safe", "same_kind", "unsafe"):
        raise ValueError(f"einsum: unknown casting rule {casting!r}")
    terms, output, ops = parse(operands)
    ops, bk = _operands(ops)
    traced = any(isinstance(o, Tracer) for o in ops)
    if dtype is not None:
        dtype = bk.dtype(dtype)
        for k, o in enumerate(ops):
            if not bk.can_cast(o.dtype, dtype, casting):
                raise TypeError(f"einsum: cannot cast operand {k} from dtype {o.dtype} to "
                                f"{dtype} according to the rule {casting!r}")
        ops = [o if o.dtype == dtype else rules.astype_p(o, dtype=dtype) for o in ops]
    spec = normalize(terms, output, [o.shape for o in ops])
    if isinstance(operands[0], str):
        _remember_spec(operands[0], ops, spec)
    if out is not None and traced:
        raise TypeError("einsum: out= cannot be used with traced operands (the result of a "
                        "differentiated computation is a new value)")
    res = rules.einsum_p(*ops, spec=spec, optimize=optimize, checkpoint=bool(checkpoint),
                         **({} if executor is None else {"executor": executor}))
    if traced:
        return res
    if out is not None:
        return store_out(res, out, "einsum", casting)
    return _finish(bk.with_order(res, order, ops))


# -------------------------------------------------------------------------- products


def multiply(a, b):
    """Elementwise product with broadcasting: one einsum node ``"...,...->..."``.

    Examples:
        >>> import einsum_ad as ea
        >>> ea.multiply([1.0, 2.0], [[3.0], [4.0]])
        array([[3., 6.],
               [4., 8.]])
    """
    a, b = _pair(a, b)
    spec = _SPECS.get(("...,...->...", a.shape, b.shape))
    if spec is None:  # first time for these shapes: numpy's broadcasting error, then the spec
        _broadcast("multiply", a.shape, b.shape)
        terms, output, _ = parse(("...,...->...", a, b))
        spec = normalize(terms, output, [a.shape, b.shape])
        _remember_spec("...,...->...", (a, b), spec)
    # what rules.mul computes: the node "...,...->..." with the default optimizer
    return _finish(rules.einsum_p(a, b, spec=spec, optimize="auto"))


def matmul(a, b):
    """Matrix product with numpy's rules: one einsum node.

    A 1-D first (second) operand is a row (column) vector whose added axis is dropped from
    the result; leading axes are batch axes and broadcast.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.matmul(np.ones((5, 2, 3)), np.ones(3)).shape
        (5, 2)
    """
    (a, b), _ = _operands((a, b), "matmul")
    for k, x in enumerate((a, b)):
        if x.ndim == 0:
            raise ValueError(f"matmul: operand {k} is 0-d; matmul needs at least 1 dimension")
    kb = -2 if b.ndim > 1 else -1
    if a.shape[-1] != b.shape[kb]:
        raise ValueError(
            f"matmul: core dimension mismatch: operand 0 has shape {a.shape} and operand 1 "
            f"has shape {b.shape} ({a.shape[-1]} != {b.shape[kb]})"
        )
    _broadcast("matmul (batch axes)", a.shape[:-2], b.shape[:-2])
    left = "...ij" if a.ndim > 1 else "j"
    right = "...jk" if b.ndim > 1 else "j"
    out = ("...i" if a.ndim > 1 else "...") + ("k" if b.ndim > 1 else "")
    return _finish(rules.einsum_str(f"{left},{right}->{out}", a, b))


def dot(a, b):
    """numpy's ``dot``: one einsum node.

    0-d operands multiply; a 1-D ``b`` contracts with ``a``'s last axis; otherwise ``a``'s
    last axis contracts with ``b``'s second-to-last, and the result holds ``a``'s other axes
    then ``b``'s (no broadcasting).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.dot(np.ones((2, 3)), np.ones((4, 3, 5))).shape
        (2, 4, 5)
    """
    (a, b), _ = _operands((a, b), "dot")
    if a.ndim == 0 or b.ndim == 0:
        return lower([a, b], [range(a.ndim), range(b.ndim)], range(max(a.ndim, b.ndim)))
    kb = b.ndim - 2 if b.ndim > 1 else 0
    if a.shape[-1] != b.shape[kb]:
        raise _not_aligned(a, b, a.ndim - 1, kb)
    ta = list(range(a.ndim))
    tb = [a.ndim + i for i in range(b.ndim)]
    tb[kb] = ta[-1]
    return lower([a, b], [ta, tb], ta[:-1] + [t for i, t in enumerate(tb) if i != kb])


def inner(a, b):
    """numpy's ``inner``: contract the last axes; 0-d operands multiply. One einsum node.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.inner(np.ones((2, 3)), np.ones((4, 3))).shape
        (2, 4)
    """
    (a, b), _ = _operands((a, b), "inner")
    if a.ndim == 0 or b.ndim == 0:
        return dot(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise _not_aligned(a, b, a.ndim - 1, b.ndim - 1)
    ta = list(range(a.ndim))
    tb = [a.ndim + i for i in range(b.ndim - 1)] + [ta[-1]]
    return lower([a, b], [ta, tb], ta[:-1] + tb[:-1])


def vdot(a, b):
    """numpy's ``vdot``: the dot product of the flattened arrays, ``a`` conjugated.

    One einsum node when the shapes agree; for arrays of equal size but different shapes,
    ``b`` is first reshaped to ``a``'s shape (for a traced ``b``, one reshape node). A
    traced complex ``a`` adds one ``conj`` node (see the module docstring).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> float(ea.vdot(np.arange(4.0).reshape(2, 2), np.ones((2, 2))))
        6.0
    """
    (a, b), _ = _operands((a, b), "vdot")
    a = _conj_first(a, "vdot")
    na, nb = math.prod(a.shape), math.prod(b.shape)
    if na != nb:
        raise ValueError(
            f"vdot: the arrays have different sizes: operand 0 has shape {tuple(a.shape)} "
            f"({na} elements), operand 1 has shape {tuple(b.shape)} ({nb} elements)"
        )
    if tuple(a.shape) != tuple(b.shape):
        b = rules.reshape_p(b, shape=tuple(a.shape))
    labels = list(range(a.ndim))
    return lower([a, b], [labels, labels], [])


def outer(a, b):
    """numpy's ``outer``: the outer product of the flattened arrays.

    One einsum node on the arrays as they are; when either is not 1-D, one reshape of
    the result to ``(a.size, b.size)`` follows.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.outer([1.0, 2.0], [1.0, 10.0])
        array([[ 1., 10.],
               [ 2., 20.]])
    """
    (a, b), _ = _operands((a, b), "outer")
    ta, tb = list(range(a.ndim)), list(range(a.ndim, a.ndim + b.ndim))
    out = rules.einsum_p(a, b, spec=normalize([ta, tb], ta + tb, [a.shape, b.shape]),
                         optimize="auto")
    if a.ndim != 1 or b.ndim != 1:
        out = rules.reshape_p(out, shape=(math.prod(a.shape), math.prod(b.shape)))
    return _finish(out)


def _axes_list(axes, ndim, fname, which):
    seq = [axes] if isinstance(axes, numbers.Integral) else list(axes)
    out = []
    for ax in seq:
        ax = operator.index(ax)
        if not -ndim <= ax < ndim:
            raise AxisError(ax, ndim, f"{fname} ({which})")
        out.append(ax % ndim)
    return out


def tensordot(a, b, axes=2):
    """numpy's ``tensordot``: one einsum node.

    Args:
        a, b: arrays.
        axes: an int ``N`` (contract ``a``'s last N axes with ``b``'s first N, in order) or
            a pair ``(axes_a, axes_b)`` of ints or equally long sequences of ints.

    Returns:
        ``a``'s free axes followed by ``b``'s free axes.

    Raises:
        ValueError: sizes of contracted axes differ, the sequences differ in length, an
            axis repeats, or ``N`` is negative. An axis out of range raises numpy's
            AxisError (both a ValueError and an IndexError).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.tensordot(np.ones((2, 3, 4)), np.ones((4, 3, 5)), ([1, 2], [1, 0])).shape
        (2, 5)
    """
    (a, b), _ = _operands((a, b), "tensordot")
    if isinstance(axes, numbers.Integral):
        n = operator.index(axes)
        if n < 0:
            raise ValueError(f"tensordot: axes must be a non-negative int or a pair, got {n}")
        if n > a.ndim or n > b.ndim:
            raise AxisError(f"tensordot: cannot contract {n} axes of arrays of shapes "
                            f"{tuple(a.shape)} and {tuple(b.shape)}")
        axa, axb = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        try:
            pa, pb = axes
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: axes must be an int or a pair of sequences, "
                            f"got {axes!r}") from None
        axa = _axes_list(pa, a.ndim, "tensordot", "axes of a")
        axb = _axes_list(pb, b.ndim, "tensordot", "axes of b")
        if len(axa) != len(axb):
            raise ValueError(f"tensordot: shape-mismatch for sum: {len(axa)} axes of a "
                             f"{axa} against {len(axb)} axes of b {axb}")
        if len(set(axa)) != len(axa) or len(set(axb)) != len(axb):
            raise ValueError(f"tensordot: duplicate axes are not allowed ({axa}, {axb})")
    for i, j in zip(axa, axb):
        if a.shape[i] != b.shape[j]:
            raise ValueError(
                f"tensordot: shape-mismatch for sum: axis {i} of a (shape {tuple(a.shape)}) "
                f"has size {a.shape[i]}, axis {j} of b (shape {tuple(b.shape)}) has size "
                f"{b.shape[j]}"
            )
    ta = list(range(a.ndim))
    tb = [a.ndim + j for j in range(b.ndim)]
    for i, j in zip(axa, axb):
        tb[j] = ta[i]
    out = [t for i, t in enumerate(ta) if i not in axa] + \
        [t for j, t in enumerate(tb) if j not in axb]
    return lower([a, b], [ta, tb], out)


def kron(a, b):
    """numpy's Kronecker product: one einsum node (an interleaved outer product), then
    one reshape that merges each pair of axes.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.kron(np.eye(2), np.ones((1, 2)))
        array([[1., 1., 0., 0.],
               [0., 0., 1., 1.]])
    """
    (a, b), _ = _operands((a, b), "kron")
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    ta = [2 * i for i in range(nd - a.ndim, nd)]
    tb = [2 * i + 1 for i in range(nd - b.ndim, nd)]
    out = rules.einsum_p(a, b, spec=normalize([ta, tb], sorted(ta + tb), [a.shape, b.shape]),
                         optimize="auto")
    shape = tuple(x * y for x, y in zip(sa, sb))
    if tuple(out.shape) != shape:
        out = rules.reshape_p(out, shape=shape)
    return _finish(out)


def vecdot(x1, x2, /, *, axis=-1):
    """numpy 2's ``vecdot``: ``sum(conj(x1) * x2, axis)`` with the other axes broadcast.

    One einsum node. The contracted axis must have the same length in both (it is not
    broadcast); a traced complex ``x1`` adds one ``conj`` node (see the module docstring).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.vecdot(np.ones((4, 1, 3)), np.ones((5, 3))).shape
        (4, 5)
    """
    (x1, x2), _ = _operands((x1, x2), "vecdot")
    x1 = _conj_first(x1, "vecdot")
    cores = []
    for k, x in enumerate((x1, x2)):
        if x.ndim == 0:
            raise ValueError(f"vecdot: operand {k} is 0-d; it needs the axis {axis} to contract")
        cores.append(_axes_list(axis, x.ndim, "vecdot", f"axis of operand {k}")[0])
    if x1.shape[cores[0]] != x2.shape[cores[1]]:
        raise ValueError(
            f"vecdot: the contracted axis {axis} has size {x1.shape[cores[0]]} in operand 0 "
            f"(shape {tuple(x1.shape)}) and {x2.shape[cores[1]]} in operand 1 (shape "
            f"{tuple(x2.shape)})"
        )
    batch = [tuple(d for i, d in enumerate(x.shape) if i != c) for x, c in zip((x1, x2), cores)]
    nb = len(_broadcast("vecdot", *batch))
    terms = []
    for c, s in zip(cores, batch):
        labels = list(range(nb - len(s), nb))  # batch axes, right-aligned
        labels.insert(c, nb)  # the contracted label
        terms.append(labels)
    return lower([x1, x2], terms, range(nb))

