"""Forward mode: jvp.

A forward trace carries a tangent with each traced value (None for zero); every primitive's
JVP rule propagates it. Tangents have the primal's library, dtype and device.
"""

from __future__ import annotations

from ..core import JvpTrace, Tracer
from ..rules import zeros
from ..tree import tree_flatten, tree_unflatten
from ._args import (
    as_primal,
    check_tangent,
    output_spec,
    own_value,
    owners,
    split_output,
    untracked,
    user_array,
)

__all__ = ["jvp"]


def jvp(f, primals, tangents, has_aux=False):
    """Forward mode: ``(f(*primals), J·tangents)``.

    Args:
        f: a function of arrays or pytrees of arrays.
        primals: a tuple or list of arguments.
        tangents: a tuple or list shaped like ``primals`` (same pytree structure, shapes).

    Returns:
        ``(out, tangent_out)``, or ``(out, tangent_out, aux)`` with ``has_aux``.
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (or lists) of arguments")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    trace = JvpTrace()
    args = []
    hold = None  # torch: the context in which it records no autograd graph
    for i, (p, t) in enumerate(zip(primals, tangents)):
        pl, pd = tree_flatten(p)
        tl, td = tree_flatten(t)
        if pd != td:
            raise ValueError(f"jvp: tangent {i} has structure {td}, primal has {pd}")
        leaves = []
        for x, tx in zip(pl, tl):
            x = as_primal(x, "jvp", i)
            hold = hold or untracked((x,))
            tx = check_tangent(tx, x, i)
            leaves.append(trace.new_input(x, tx))
        args.append(tree_unflatten(pd, leaves))
    try:
        if hold is None:
            result, aux, ol, od = split_output(f(*args), has_aux, "jvp")
        else:
            with hold():
                result, aux, ol, od = split_output(f(*args), has_aux, "jvp")
    finally:
        trace.done = True  # its tracers must not be used once f has returned
    seen = owners(tree_flatten(list(tangents))[0]) | owners(tree_flatten(list(primals))[0])
    vals, tans = [], []
    for o in ol:
        if isinstance(o, Tracer) and o._trace is trace:
            vals.append(o._value)
            t = o._tangent
            tans.append(zeros(o.shape, o) if t is None else user_array(t, seen))
        else:
            vals.append(o)
            shape, dtype, bk = output_spec(o)
            tans.append(bk.zeros(shape, dtype=dtype, device=bk.device(o) if bk.owns(o)
                                 else None))
    out = (tree_unflatten(od, vals), tree_unflatten(od, tans))
    if has_aux:
        al, ad = tree_flatten(aux)
        return out + (tree_unflatten(ad, [own_value(x, trace) for x in al]),)
    return out
