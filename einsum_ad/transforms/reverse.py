"""Reverse mode: vjp, and value_and_grad and grad built on it.

``grad`` is ``value_and_grad`` without the value; ``value_and_grad`` is a ``vjp`` with a
unit cotangent; ``argnums`` is handled by one wrapper. Complex values: the VJP is the
linear transpose of the derivative, with no conjugation (as in JAX); the gradient of a real
function of complex inputs is therefore the conjugate of the "steepest ascent" direction.
Every backend's arrays are welcome; cotangents and gradients have the primal's library,
dtype and device.
"""

from __future__ import annotations

from .. import backend as _backend
from .. import rules
from ..core import RevTrace, Tracer, backward, unwrap
from ..tree import LEAF, tree_flatten, tree_unflatten
from ._args import (
    INEXACT,
    argnums_wrapper,
    as_primal,
    check_cotangent,
    output_spec,
    own_value,
    owners,
    split_output,
    untracked,
    user_array,
)

__all__ = ["vjp", "grad", "value_and_grad"]

_of = _backend.of
_BY_TYPE, _KINDS = _backend._BY_TYPE, _backend._KINDS


def vjp(f, *primals, has_aux=False):
    """Evaluate ``f(*primals)`` and return its vector-Jacobian product function.

    Args:
        f: a function of arrays (and pytrees of arrays) returning an array or a pytree.
        *primals: the arguments, floating or complex arrays or pytrees of them.
        has_aux: ``f`` returns ``(output, aux)``; aux is returned as it is.

    Returns:
        ``(out, vjp_fn)`` (or ``(out, vjp_fn, aux)``), where ``vjp_fn(cotangent)`` takes a
        cotangent shaped like ``out`` and returns a tuple with one cotangent per primal,
        each shaped and typed like its primal.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> W, x = np.arange(6.0).reshape(2, 3), np.ones(3)
        >>> z, f_vjp = ea.vjp(lambda W: ea.einsum("ij,j->i", W, x), W)
        >>> f_vjp(np.array([1.0, 2.0]))[0]
        array([[1., 1., 1.],
               [2., 2., 2.]])
    """
    trace = RevTrace()
    leaves_in, trees_in, args, inputs = [], [], [], []
    values = []  # the inputs' arrays (vjp_fn's derivatives must not share memory with them)
    bare = True  # every primal a single array
    new_input = trace.new_input
    hold = None  # torch: the context in which it records no autograd graph
    i = 0
    for p in primals:
        b = _BY_TYPE.get(p.__class__)
        if b is not None and _KINDS.get(p.dtype) in INEXACT:
            if b.untracked is not None:
                hold = b.untracked
            x = new_input(p)  # the common case: one floating array
            values.append(p)
            leaves_in.append([x])
            trees_in.append(LEAF)
            inputs.append(x)
            args.append(x)
            i += 1
            continue
        leaves, treedef = tree_flatten(p)
        ls = [new_input(as_primal(x, "vjp", i)) for x in leaves]
        values.extend(x._value for x in ls)
        hold = hold or untracked(leaves)
        leaves_in.append(ls)
        trees_in.append(treedef)
        inputs.extend(ls)
        if treedef is LEAF:
            args.append(ls[0])
        else:
            bare = False
            args.append(tree_unflatten(treedef, ls))
        i += 1
    try:
        if hold is None:
            result = f(*args)
        else:
            with hold():
                result = f(*args)
        if result.__class__ is Tracer and not has_aux:  # the common case
            out_leaves, out_tree = [result], LEAF
        else:
            result, aux, out_leaves, out_tree = split_output(result, has_aux, "vjp")
    finally:
        trace.done = True  # its tracers must not be used once f has returned
    out_vals = [x._value if x.__class__ is Tracer and x._trace is trace else x
                for x in out_leaves]
    out = out_vals[0] if out_tree is LEAF else tree_unflatten(out_tree, out_vals)

    def vjp_fn(cotangent):
        if _BY_TYPE.get(cotangent.__class__) is not None:
            ct_leaves, ct_tree = [cotangent], LEAF
        else:
            ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree is not out_tree and ct_tree != out_tree:
            raise ValueError(
                f"vjp_fn: the cotangent's structure {ct_tree} differs from the output's "
                f"{out_tree}"
            )
        roots, cts_in = [], []
        i = 0
        for o, c in zip(out_leaves, ct_leaves):
            c = check_cotangent(c, o, i)
            cts_in.append(c)
            if o.__class__ is Tracer and o._trace is trace:
                roots.append((o._node, c))
            i += 1
        if hold is None:
            cts = backward(roots, rules.accumulate, rules.fit) if roots else {}
        else:
            with hold():
                cts = backward(roots, rules.accumulate, rules.fit) if roots else {}
        # what a handed-out derivative must not share memory with: the cotangents, the
        # inputs, and (added as they are handed out) the derivatives before it
        seen = owners(cts_in, values)
        flat = []
        for x in inputs:
            c = cts.get(id(x._node))
            if c is None:
                c = rules.zeros(x.shape, x)
            b = _BY_TYPE.get(c.__class__)  # user_array's common case, one frame less
            flat.append(b.handout(c, seen) if b is not None else user_array(c, seen))
        if bare:
            return tuple(flat)
        grads, k = [], 0
        for ls, treedef in zip(leaves_in, trees_in):
            grads.append(tree_unflatten(treedef, flat[k:k + len(ls)]))
            k += len(ls)
        return tuple(grads)

    if has_aux:
        aux_leaves, aux_tree = tree_flatten(aux)
        return out, vjp_fn, tree_unflatten(aux_tree, [own_value(x, trace) for x in aux_leaves])
    return out, vjp_fn


def value_and_grad(f, argnums=0, has_aux=False):
    """A function returning ``f``'s value and its gradient with respect to ``argnums``.

    ``f`` must return a real scalar (or ``(scalar, aux)`` with ``has_aux``). The gradient
    has the structure of the chosen argument (a tuple of them when ``argnums`` is a tuple).
    With ``has_aux``, the function returns ``((value, aux), grad)``. Keyword arguments of
    the returned function are passed to ``f`` and not differentiated. ``argnums`` is any
    integer (numpy integers included) or a tuple of them.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> f = lambda x: ea.einsum("i,i->", x, x)
        >>> ea.value_and_grad(f)(np.array([1.0, 2.0]))
        (np.float64(5.0), array([2., 4.]))
    """
    def wrapped(*args, **kwargs):
        partial, dyn, single = argnums_wrapper(f, argnums, args, "grad", kwargs)
        res = vjp(partial, *dyn, has_aux=has_aux)
        out, fn = res[0], res[1]
        if isinstance(out, (list, tuple, dict)) or out is None:
            raise TypeError(
                f"grad: f must return a scalar, got a {type(out).__name__}"
                + ("; to return auxiliary values too, pass has_aux=True and return (scalar, aux)"
                   if isinstance(out, (list, tuple)) and not has_aux else ""))
        shape, dtype, bk = output_spec(out)
        if shape != ():
            raise TypeError(f"grad: f must return a scalar, got an output of shape {shape}")
        if _backend.kind(dtype) not in "f":
            raise TypeError(f"grad: f must return a real floating scalar, got dtype {dtype}")
        g = fn(bk.ones((), dtype=dtype, device=bk.device(unwrap(out))))
        g = g[0] if single else g
        value = out if isinstance(out, Tracer) or _of(out) is None else bk.finish(out)
        return ((value, res[2]), g) if has_aux else (value, g)

    wrapped.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    wrapped.__doc__ = f.__doc__
    return wrapped


def grad(f, argnums=0, has_aux=False):
    """The gradient of scalar-valued ``f`` with respect to argument(s) ``argnums``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.grad(lambda W: ea.einsum("ij,j->", W, np.ones(2)))(np.zeros((2, 2)))
        array([[1., 1.],
               [1., 1.]])
        >>> ea.grad(ea.grad(lambda x: x * x * x))(2.0)   # d2/dx2 x^3 = 6x
        np.float64(12.0)
    """
    vg = value_and_grad(f, argnums, has_aux)

    def wrapped(*args, **kwargs):
        (v, g) = vg(*args, **kwargs)
        return (g, v[1]) if has_aux else g

    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    wrapped.__doc__ = f.__doc__
    return wrapped
