"""Batching (``vmap``) in the rule table: the helpers every section's batching rule uses.

A batching rule ``rule(args, dims, params) -> (ans, dim)`` receives the values underneath
the batched tracers (``dims[i]`` is the axis of ``args[i]`` holding the batch, None for an
argument that is the same for every example) and returns the whole batch's result with
its batch axis. Three kinds cover the table (DESIGN.md section 7):

* the einsum node gains one fresh label, carried by its batched operands and put first
  in the output: one contraction, planned once (``rules/einsum.py``);
* elementwise primitives broadcast: batched operands are brought to a common layout,
  unbatched ones broadcast against them (:func:`elementwise`);
* structural primitives and reductions shift their axes past the batch axis
  (:func:`reduction` and the rules of ``structural.py``).

Like every rule, these compute only with primitives (a transpose is a one-operand einsum,
a new axis a reshape), so whatever they do is recorded by the traces underneath: a batched
computation differentiates, and compiles, like any other.
"""

from __future__ import annotations

from ..spec import Spec, symbol

__all__ = ["moveaxis", "to_front", "batch_size", "elementwise", "reduction",
           "example_ndim", "along", "stacked"]


def moveaxis(x, src: int, dst: int):
    """``x`` (a value with every axis, the batch's included) with axis ``src`` moved to
    position ``dst``: a one-operand einsum (a transposed view on NumPy)."""
    if src == dst:
        return x
    n = len(x.shape)
    order = [i for i in range(n) if i != src]
    order.insert(dst, src)
    labels = "".join(symbol(i) for i in range(n))
    from .einsum import einsum_p  # (einsum's own module imports this one's users)

    return einsum_p(x, spec=Spec((labels,), "".join(labels[i] for i in order)),
                    optimize=False)


def to_front(x, dim):
    """``x`` with its batch axis ``dim`` first."""
    return moveaxis(x, dim, 0)


def batch_size(args, dims) -> int:
    """The number of examples, read off the first batched argument."""
    for a, d in zip(args, dims):
        if d is not None:
            return a.shape[d]
    raise ValueError("batch_size: no batched argument")  # pragma: no cover - rules' callers


def example_ndim(x, dim) -> int:
    """The number of dimensions of one example of ``x`` (batched on ``dim``, or not)."""
    return len(x.shape) - (dim is not None)


def _with_rank(x, dim, rank):
    """Batched ``x`` as ``(batch, 1, ..., 1, *example)`` with ``rank`` example axes, so
    that it broadcasts against unbatched operands (right-aligned) example by example."""
    from .structural import reshape_p

    x = to_front(x, dim)
    shape = tuple(x.shape)
    pad = rank - (len(shape) - 1)
    if pad:
        x = reshape_p(x, shape=shape[:1] + (1,) * pad + shape[1:])
    return x


def elementwise(prim):
    """The batching rule of elementwise primitive ``prim`` (any number of operands,
    numpy broadcasting, parameters passed on): operands that already agree (the same batch
    axis and rank, unbatched ones broadcasting behind it) are used as they are; otherwise
    the batch goes first and example axes are right-aligned."""

    def rule(args, dims, params):
        ranks = [example_ndim(a, d) for a, d in zip(args, dims)]
        rank = max(ranks)
        batched = {d for d in dims if d is not None}
        if len(batched) == 1:
            (d,) = batched
            if all(r == rank if dim is not None else r <= rank - d
                   for r, dim in zip(ranks, dims)):
                return prim(*args, **params), d
        new = [a if d is None else _with_rank(a, d, rank) for a, d in zip(args, dims)]
        return prim(*new, **params), 0

    rule.__name__ = f"batch_{prim.name}"
    return rule


def reduction(prim):
    """The batching rule of a reduction over ``params["axis"]`` (a tuple of non-negative
    axes of one example) with an optional ``keepdims``: the axes shift past the batch axis,
    which stays where it is (no transpose)."""

    def rule(args, dims, params):
        x, d = args[0], dims[0]
        axes = params["axis"]
        p = dict(params)
        p["axis"] = tuple(a if a < d else a + 1 for a in axes)
        keep = p.get("keepdims", True)
        out = d if keep else d - sum(1 for a in axes if a < d)
        return prim(x, **p), out

    rule.__name__ = f"batch_{prim.name}"
    return rule


def _shifted(axes, d):
    """Non-negative example axes ``axes`` (an int or a tuple) as axes of a value whose
    batch axis is ``d``."""
    if isinstance(axes, tuple):
        return tuple(a if a < d else a + 1 for a in axes)
    return axes if axes < d else axes + 1


def along(prim, key="axis"):
    """The batching rule of a one-operand primitive that acts along the example axes
    ``params[key]`` (an int or a tuple of non-negative axes) and keeps every other axis
    (``flip``, ``roll``, ``cumsum``, the FFTs): those axes shift past the batch axis, which
    stays where it is; other parameters pass on unchanged."""

    def rule(args, dims, params):
        d = dims[0]
        p = dict(params)
        p[key] = _shifted(params[key], d)
        return prim(args[0], **p), d

    rule.__name__ = f"batch_{prim.name}"
    return rule


def aligned(prim, key="axis"):
    """The batching rule of a primitive of several operands that broadcast against each
    other (numpy's rule) and act along the example axis ``params[key]`` of the broadcast
    shape (``linrec``): the batch goes first with example axes right-aligned, as
    :func:`elementwise` lays them out, and the axis shifts by one."""

    def rule(args, dims, params):
        rank = max(example_ndim(a, d) for a, d in zip(args, dims))
        new = [a if d is None else _with_rank(a, d, rank) for a, d in zip(args, dims)]
        p = dict(params)
        p[key] = _shifted(params[key], 0)
        return prim(*new, **p), 0

    rule.__name__ = f"batch_{prim.name}"
    return rule


def stacked(prim):
    """The batching rule of a primitive over stacks of matrices (``(..., M, N)`` operands,
    the linear algebra section): the batch axis goes first, as one more stack axis. Its
    operands must share one stack shape (``solve``): an unbatched operand is broadcast to
    the batch (a broadcast view); the result's batch axis is 0."""
    from .structural import broadcast_to_p

    def rule(args, dims, params):
        n = batch_size(args, dims)
        new = []
        for a, d in zip(args, dims):
            if d is None:
                a = broadcast_to_p(a, shape=(n,) + tuple(a.shape)) if len(args) > 1 else a
            else:
                a = to_front(a, d)
            new.append(a)
        return prim(*new, **params), 0

    rule.__name__ = f"batch_{prim.name}"
    return rule
