"""``vmap``: a function of one example applied to a whole batch, without a Python loop.

A batching trace (``core.BatchTrace``) wraps each mapped argument; every primitive the
function applies goes through its batching rule (``Primitive.batch``, in the rule table
beside its VJP and JVP rules): an einsum node gains one fresh batch label (one contraction
of the whole batch, planned once), elementwise primitives broadcast, structural ones shift
their axes. ``in_axes``/``out_axes``/``axis_size`` follow JAX's semantics. Because the rules
compute with primitives, ``vmap`` composes with every transform in any order.
"""

from __future__ import annotations

import operator

from .. import backend as _backend
from .. import rules
from ..core import BatchTrace, BatchTracer, Tracer
from ..rules.batching import moveaxis
from ..tree import tree_flatten, tree_unflatten

__all__ = ["vmap"]


def _axis_spec(ax, what):
    """An entry of ``in_axes``/``out_axes`` at a leaf: None or an int (bools refused)."""
    if ax is None:
        return None
    if isinstance(ax, bool):
        raise TypeError(f"vmap: {what} entries must be ints or None, got {ax!r}")
    try:
        return operator.index(ax)
    except TypeError:
        raise TypeError(f"vmap: {what} entries must be ints or None (or containers of "
                        f"them matching the arguments), got {ax!r}") from None


def _prefix_leaves(prefix, tree, what, where):
    """One axis per leaf of ``tree`` (in ``tree_flatten`` order), from ``prefix``: an int
    or None applies to every leaf beneath it; a dict, list or tuple must match ``tree``'s
    container there (JAX's pytree-prefix rule)."""
    if prefix is None or not isinstance(prefix, (dict, list, tuple)):
        return [_axis_spec(prefix, what)] * len(tree_flatten(tree)[0])
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            raise ValueError(f"vmap: {what} {where} is a dict with keys {sorted(prefix)!r}, "
                             f"which does not match the argument there "
                             f"({_describe(tree)})")
        out = []
        for k in sorted(tree):
            out += _prefix_leaves(prefix[k], tree[k], what, f"{where}[{k!r}]")
        return out
    if not isinstance(tree, (list, tuple)) or len(tree) != len(prefix):
        raise ValueError(f"vmap: {what} {where} is a {type(prefix).__name__} of length "
                         f"{len(prefix)}, which does not match the argument there "
                         f"({_describe(tree)})")
    out = []
    for i, (p, t) in enumerate(zip(prefix, tree)):
        out += _prefix_leaves(p, t, what, f"{where}[{i}]")
    return out


def _describe(tree) -> str:
    if isinstance(tree, dict):
        return f"a dict with keys {sorted(tree)!r}"
    if isinstance(tree, (list, tuple)):
        return f"a {type(tree).__name__} of length {len(tree)}"
    shape = getattr(tree, "shape", None)
    return f"an array of shape {tuple(shape)}" if shape is not None else type(tree).__name__


def _mapped_value(x, ax, i):
    """Mapped leaf ``x`` (argument ``i``) as an array or traced value, and its batch axis
    (normalised: negative axes count from the end)."""
    if not isinstance(x, Tracer):
        x = _backend.to_array(x, i, "vmap", "argument")
    nd = len(x.shape)
    if not -nd <= ax < nd:
        raise ValueError(f"vmap was requested to map argument {i} along axis {ax}, which "
                         f"implies that its rank should be at least "
                         f"{ax + 1 if ax >= 0 else -ax}, but it is only {nd} (its shape "
                         f"is {tuple(x.shape)})")
    return x, ax % nd


def vmap(fun, in_axes=0, out_axes=0, axis_size=None):
    """Vectorise ``fun`` over an axis of its arguments: ``vmap(f)(xs)[i] == f(xs[i])``.

    JAX's signature and semantics. Each primitive ``fun`` applies runs once on the whole
    batch through its batching rule: an einsum gains a batch label (one contraction,
    planned once: ``vmap(lambda x: W @ x)`` is a single GEMM), elementwise functions
    broadcast, reshapes and reductions shift their axes. Composes with every transform:
    ``vmap(grad(loss), in_axes=(None, 0, 0))`` gives per-example gradients, ``grad`` of a
    function that calls ``vmap`` differentiates the batched computation, ``vmap(vmap(f))``
    maps two axes, ``jit(vmap(f))`` compiles it.

    Args:
        fun: a function of arrays (or pytrees of arrays).
        in_axes: which axis of each positional argument is mapped: an int (every leaf of
            every argument), None (not mapped: the same for every example), or a tuple
            with one entry per positional argument, each an int, None or a pytree prefix
            of that argument (a dict, list or tuple of such entries). Negative axes count
            from the end. Keyword arguments are mapped over their axis 0.
        out_axes: where the batch axis goes in each output leaf: an int, None (an output
            that is the same for every example) or a pytree prefix of the output.
        axis_size: the batch size; needed only when no argument is mapped.

    Returns:
        The batched function. Outputs that do not depend on a mapped argument are
        broadcast along the batch axis (unless their ``out_axes`` entry is None).

    Raises:
        ValueError: mapped axes of different sizes, an axis beyond an argument's rank,
            an ``in_axes`` prefix that does not match the arguments, or ``out_axes=None``
            for an output that depends on the batch.
        TypeError: a primitive without a batching rule (named), or reading a batched
            value (Python control flow, an index, a mask: use ``ea.where``).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> W = np.arange(6.0).reshape(2, 3)
        >>> ea.vmap(lambda x: W @ x)(np.ones((4, 3)))          # one GEMM for the 4 rows
        array([[ 3., 12.],
               [ 3., 12.],
               [ 3., 12.],
               [ 3., 12.]])
        >>> loss = lambda w, x, y: (ea.einsum("i,i->", w, x) - y) ** 2
        >>> ea.vmap(ea.grad(loss), in_axes=(None, 0, 0))(np.ones(2), np.eye(2), np.zeros(2))
        array([[2., 0.],
               [0., 2.]])
        >>> ea.vmap(lambda a, b: a * b, in_axes=(1, None), out_axes=1)(np.ones((2, 3)), 5.0)
        array([[5., 5., 5.],
               [5., 5., 5.]])
    """
    if not callable(fun):
        raise TypeError(f"vmap: fun must be callable, got {type(fun).__name__}")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)  # as JAX: a top-level list is read as the tuple
    if in_axes is not None and not isinstance(in_axes, (int, tuple)) \
            or isinstance(in_axes, bool):
        raise TypeError("vmap: in_axes must be an int, None, or a tuple of entries "
                        "corresponding to the positional arguments passed to the function, "
                        f"got {in_axes!r}")
    if axis_size is not None:
        axis_size = operator.index(axis_size)
        if axis_size < 0:
            raise ValueError(f"vmap: axis_size must be non-negative, got {axis_size}")

    def batched(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(f"vmap: in_axes has {len(in_axes)} entries but the function "
                             f"was called with {len(args)} positional argument(s); in_axes "
                             "must have one entry per positional argument")
        axes = []
        for i, a in enumerate(args):
            ax = in_axes[i] if isinstance(in_axes, tuple) else in_axes
            axes.append(_prefix_leaves(ax, a, "in_axes", f"entry {i}"))
        leaves, tree = tree_flatten((args, kwargs))
        flat_axes = [ax for per_arg in axes for ax in per_arg]
        flat_axes += [0] * (len(leaves) - len(flat_axes))  # keyword arguments: axis 0
        mapped = []
        for i, (x, ax) in enumerate(zip(leaves, flat_axes)):
            if ax is not None:
                x, ax = _mapped_value(x, ax, i)
                mapped.append((i, x, ax))
        sizes = {x.shape[ax] for _, x, ax in mapped}
        if axis_size is not None:
            sizes.add(axis_size)
        if not sizes:
            raise ValueError("vmap: no argument is mapped (every in_axes entry is None) and "
                             "axis_size is not given; pass axis_size=")
        if len(sizes) > 1:
            what = "; ".join(f"argument {i} of shape {tuple(x.shape)} mapped on axis {ax} "
                             f"(size {x.shape[ax]})" for i, x, ax in mapped)
            extra = f"; axis_size={axis_size}" if axis_size is not None else ""
            raise ValueError(f"vmap got inconsistent sizes for the mapped axes: {what}{extra}")
        (n,) = sizes
        trace = BatchTrace(n)
        for i, x, ax in mapped:
            leaves[i] = trace.new_input(x, ax)
        bargs, bkwargs = tree_unflatten(tree, leaves)
        try:
            result = fun(*bargs, **bkwargs)
            out_leaves, out_tree = tree_flatten(result)
            out_ax = _prefix_leaves(out_axes, result, "out_axes", "")
            outs = [_unbatch(o, ax, trace, k) for k, (o, ax) in
                    enumerate(zip(out_leaves, out_ax))]
        finally:
            trace.done = True  # its tracers must not be used once fun has returned
        return tree_unflatten(out_tree, outs)

    batched.__name__ = f"vmap({getattr(fun, '__name__', 'f')})"
    batched.__doc__ = getattr(fun, "__doc__", None)
    return batched


def _unbatch(o, ax, trace, k):
    """Output leaf ``o`` with its batch axis at ``ax`` (None: ``o`` must not be batched)."""
    n = trace.axis_size
    if o.__class__ is BatchTracer and o._trace is trace:
        if ax is None:
            raise ValueError(f"vmap has mapped output {k} (it depends on a mapped argument) "
                             "but its out_axes entry is None")
        value, dim = o._value, o._bdim
        return moveaxis(value, dim, _out_axis(ax, len(value.shape) - 1, k))
    if ax is None:
        return o
    if not isinstance(o, Tracer) and _backend.of(o) is None:
        o = _backend.to_array(o, k, "vmap", "output")
    shape = tuple(o.shape)
    b = rules.broadcast_to_p(o, shape=(n,) + shape)  # the same for every example
    return moveaxis(b, 0, _out_axis(ax, len(shape), k))


def _out_axis(ax, ndim, k):
    if not -(ndim + 1) <= ax <= ndim:
        raise ValueError(f"vmap: out_axes {ax} is out of range for output {k}, which has "
                         f"{ndim} dimension(s) per example ({ndim + 1} batched)")
    return ax % (ndim + 1)
