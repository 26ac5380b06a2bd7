"""Broadcasting undone, in one place: the backward pass's fit of a cotangent to its operand.

A rule may return a cotangent with the broadcast shape of its result (``add``'s ``g`` for
a smaller operand); :func:`fit` sums it back to the operand's shape (one einsum node and,
for kept size-1 axes, one spread) and casts it to the operand's dtype. The backward pass
(``core.backward``) calls it only where a shape or dtype differs.
"""

from __future__ import annotations

from functools import lru_cache

from ..spec import Spec, symbol
from .einsum import einsum_p, spread_p
from .linear import add_p
from .structural import astype_p

__all__ = ["unbroadcast", "fit", "accumulate"]


def unbroadcast(g, shape):
    """Sum ``g`` back to ``shape`` (numpy broadcasting undone), as einsum + spread."""
    shape = tuple(shape)
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    sum_spec, spread_spec = _unbroadcast_specs(gshape, shape)
    out = einsum_p(g, spec=sum_spec, optimize=False)
    if spread_spec is not None:
        out = spread_p(out, spec=spread_spec, shape=shape)
    return out


@lru_cache(maxsize=1024)
def _unbroadcast_specs(gshape, shape):
    """The einsum summing a cotangent of ``gshape`` over its broadcast axes, and the spread
    restoring ``shape``'s size-1 axes (None when there are none)."""
    lead = len(gshape) - len(shape)
    if lead < 0 or any(d != 1 and d != gshape[lead + i] for i, d in enumerate(shape)):
        # a rule returned a cotangent that is no broadcast of its operand: summing it
        # back would hide the bug behind a plausible-looking, wrong gradient
        raise ValueError(f"a VJP rule returned a cotangent of shape {gshape} for an operand "
                         f"of shape {shape}, which does not broadcast to it")
    labels = "".join(_letters(len(gshape)))
    kept = "".join(labels[lead + i] for i, d in enumerate(shape) if d == gshape[lead + i])
    target = labels[lead:]
    return Spec((labels,), kept), (None if kept == target else Spec((kept,), target))


def _letters(n):
    return [symbol(i) for i in range(n)]


def fit(g, node):
    """Bring cotangent ``g`` to the shape and dtype of ``node`` (a reverse-trace Node)."""
    if tuple(g.shape) != tuple(node.shape):
        g = unbroadcast(g, node.shape)
    if g.dtype != node.dtype:
        g = astype_p(g, dtype=node.dtype)
    return g


def accumulate(a, b):
    return add_p(a, b)
