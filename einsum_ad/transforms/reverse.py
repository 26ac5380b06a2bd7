"""Function transforms: vjp, grad, value_and_grad, jvp (and, from derivatives.py, Jacobians).

``grad`` is ``value_and_grad`` without the value; ``value_and_grad`` is a ``vjp`` with a
unit cotangent; ``argnums`` is handled by one wrapper. Complex values: the VJP is the
linear transpose of the derivative, with no conjugation (as in JAX); the gradient of a real
function of complex inputs is therefore the conjugate of the "steepest ascent" direction.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import rules
from ..core import JvpTrace, RevTrace, Tracer, backward
from ..numpy.multilinear import _check_operand
from ..tree import LEAF, tree_flatten, tree_unflatten

__all__ = ["vjp", "grad", "value_and_grad", "jvp"]


def _as_primal(x, fname, i):
    """A differentiable input: a traced value, or a floating or complex numpy array."""
    if x.__class__ is np.ndarray and x.dtype.kind in "fc":
        return x  # the common case
    arr = _check_operand(x, i, fname, what="input")
    if not isinstance(arr, Tracer) and arr.dtype.kind not in "fc":
        raise TypeError(
            f"{fname}: input {i} has dtype {arr.dtype}; only floating or complex inputs can "
            "be differentiated (cast it, e.g. x.astype(float))"
        )
    return arr


def _own_value(x, trace):
    """What a leaf of ``f``'s output is outside ``trace``: its value, a constant otherwise."""
    if isinstance(x, Tracer) and x._trace is trace:
        return x._value
    return x


def _owner(x):
    """The object that owns array ``x``'s memory (the end of its chain of bases)."""
    b = x.base
    while b is not None:
        x = b
        b = getattr(x, "base", None)
    return id(x)


def _owners(values):
    return {_owner(v) for v in values if isinstance(v, np.ndarray)}


def _user_array(x, seen):
    """A derivative handed to the user: a writeable array sharing memory with nothing in
    ``seen`` (the owners of what the user passed in and of the derivatives already handed
    out), since a numpy user may update it in place; ``seen`` gains its owner. Rules may
    return the same array for two operands (``add``: g and g), the cotangent itself, or a
    read-only broadcast view: those are copied."""
    if not isinstance(x, np.ndarray):
        return x
    owner = _owner(x)
    if not x.flags.writeable or owner in seen:
        x = np.array(x)
        owner = id(x)
    seen.add(owner)
    return x


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
    bare = True  # every primal a single array
    new_input = trace.new_input
    i = 0
    for p in primals:
        if p.__class__ is np.ndarray and p.dtype.kind in "fc":  # the common case
            x = new_input(p)
            leaves_in.append([x])
            trees_in.append(LEAF)
            inputs.append(x)
            args.append(x)
            i += 1
            continue
        leaves, treedef = tree_flatten(p)
        ls = [new_input(_as_primal(x, "vjp", i)) for x in leaves]
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
        result = f(*args)
        if result.__class__ is Tracer and not has_aux:  # the common case
            out_leaves, out_tree = [result], LEAF
        else:
            result, aux, out_leaves, out_tree = _split_output(result, has_aux, "vjp")
    finally:
        trace.done = True  # its tracers must not be used once f has returned
    out_vals = [x._value if x.__class__ is Tracer and x._trace is trace else x
                for x in out_leaves]
    out = out_vals[0] if out_tree is LEAF else tree_unflatten(out_tree, out_vals)

    def vjp_fn(cotangent):
        if cotangent.__class__ is np.ndarray:
            ct_leaves, ct_tree = [cotangent], LEAF
        else:
            ct_leaves, ct_tree = tree_flatten(cotangent)
        if ct_tree is not out_tree and ct_tree != out_tree:
            raise ValueError(
                f"vjp_fn: the cotangent's structure {ct_tree} differs from the output's "
                f"{out_tree}"
            )
        roots = []
        i = 0
        for o, c in zip(out_leaves, ct_leaves):
            c = _check_cotangent(c, o, i)
            if o.__class__ is Tracer and o._trace is trace:
                roots.append((o._node, c))
            i += 1
        cts = backward(roots, rules.accumulate, rules.fit) if roots else {}
        # what a handed-out derivative must not share memory with: the cotangents, the
        # inputs, and (added as they are handed out) the derivatives before it
        seen = {_owner(v) for v in ct_leaves if isinstance(v, np.ndarray)}
        for x in inputs:
            v = x._value
            if isinstance(v, np.ndarray):
                seen.add(_owner(v))
        flat = []
        for x in inputs:
            c = cts.get(id(x._node))
            if c is None:
                c = np.zeros(x.shape, dtype=x.dtype)
            flat.append(_user_array(c, seen))
        if bare:
            return tuple(flat)
        grads, k = [], 0
        for ls, treedef in zip(leaves_in, trees_in):
            grads.append(tree_unflatten(treedef, flat[k:k + len(ls)]))
            k += len(ls)
        return tuple(grads)

    if has_aux:
        aux_leaves, aux_tree = tree_flatten(aux)
        return out, vjp_fn, tree_unflatten(aux_tree, [_own_value(x, trace) for x in aux_leaves])
    return out, vjp_fn


def _split_output(result, has_aux, fname):
    """``f``'s result as (output, aux, output leaves, output treedef), checked: a pair with
    ``has_aux``, and every output leaf an array, a traced value or a number."""
    aux = None
    if has_aux:
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise TypeError(f"{fname}(has_aux=True): f must return a pair (output, aux), got "
                            f"{type(result).__name__}"
                            + (f" of length {len(result)}" if isinstance(result, (tuple, list))
                               else ""))
        result, aux = result
    leaves, treedef = tree_flatten(result)
    for x in leaves:
        if not isinstance(x, _OUTPUT_TYPES):
            raise TypeError(f"{fname}: f returned a {type(x).__name__}, not an array")
    return result, aux, leaves, treedef


_OUTPUT_TYPES = (Tracer, np.ndarray, np.generic, int, float, complex)


def _check_cotangent(c, o, i):
    """Validate a cotangent leaf against output leaf ``o``; cast it to ``o``'s dtype."""
    if (type(c) is np.ndarray and isinstance(o, Tracer) and c.shape == o.shape
            and c.dtype == o.dtype and c.dtype.kind in "fc"):
        return c  # the common case: nothing to check further, nothing to cast
    oshape = tuple(np.shape(o))
    odtype = np.dtype(o.dtype) if isinstance(o, Tracer) else np.result_type(o)
    if not isinstance(c, Tracer):
        if c is None or isinstance(c, (str, bytes)):
            raise TypeError(f"vjp_fn: cotangent {i} is {type(c).__name__}, not an array")
        c = np.asarray(c)
    if tuple(c.shape) != oshape:
        raise ValueError(
            f"vjp_fn: cotangent {i} has shape {tuple(c.shape)} but the output has shape {oshape}"
        )
    kind = np.dtype(c.dtype).kind
    if kind not in "biufc" or (kind == "c" and odtype.kind != "c"):
        raise TypeError(
            f"vjp_fn: cotangent {i} has dtype {c.dtype}, which does not fit the output's "
            f"dtype {odtype}"
        )
    if c.dtype != odtype and odtype.kind in "fc":
        c = rules.astype_p(c, dtype=odtype)
    return c


def _index(a, argnums, fname):
    """One entry of ``argnums`` as a Python int (numpy integers included)."""
    try:
        return operator.index(a)
    except TypeError:
        raise TypeError(f"{fname}: argnums must be an int or a tuple of ints, got "
                        f"{argnums!r}") from None


def _check_tangent(t, x, i):
    """Validate tangent ``t`` of primal ``x`` (argument ``i``); cast it to ``x``'s dtype.

    The same checks as a cotangent's: the primal's shape, and a dtype that casts to the
    primal's without loss of meaning (a complex tangent of a real primal is an error, not
    a silently dropped imaginary part).
    """
    if not isinstance(t, Tracer):
        if t is None or isinstance(t, (str, bytes)):
            raise TypeError(f"jvp: tangent {i} is {type(t).__name__}, not an array")
        t = np.asarray(t)
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"jvp: tangent {i} has shape {tuple(t.shape)}, primal has "
                         f"{tuple(x.shape)}")
    kind, pdtype = np.dtype(t.dtype).kind, np.dtype(x.dtype)
    if kind not in "biufc" or (kind == "c" and pdtype.kind != "c"):
        raise TypeError(f"jvp: tangent {i} has dtype {t.dtype}, which does not fit the "
                        f"primal's dtype {pdtype} (shape {tuple(x.shape)})")
    if t.dtype != pdtype:
        t = rules.astype_p(t, dtype=pdtype) if isinstance(t, Tracer) else t.astype(pdtype)
    return t


def _argnums_wrapper(f, argnums, args, fname, kwargs=None):
    """Split ``args`` into the differentiated ones and a function of those alone.

    ``kwargs`` are passed to ``f`` as they are and never differentiated (as in JAX).
    """
    single = not isinstance(argnums, (tuple, list))
    nums = tuple(_index(a, argnums, fname) for a in ((argnums,) if single else argnums))
    if not nums:
        raise ValueError(f"{fname}: argnums is empty")
    n = len(args)
    for a in nums:
        if not -n <= a < n:
            raise ValueError(f"{fname}: argnums {argnums} out of range for {n} argument(s)")
    nums = tuple(a % n for a in nums)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{fname}: argnums {argnums} repeats an argument")
    kwargs = kwargs or {}

    def partial(*dyn):
        full = list(args)
        for a, v in zip(nums, dyn):
            full[a] = v
        return f(*full, **kwargs)

    return partial, [args[a] for a in nums], single


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
        partial, dyn, single = _argnums_wrapper(f, argnums, args, "grad", kwargs)
        res = vjp(partial, *dyn, has_aux=has_aux)
        out, fn = res[0], res[1]
        if isinstance(out, (list, tuple, dict)) or out is None:
            raise TypeError(
                f"grad: f must return a scalar, got a {type(out).__name__}"
                + ("; to return auxiliary values too, pass has_aux=True and return (scalar, aux)"
                   if isinstance(out, (list, tuple)) and not has_aux else ""))
        if isinstance(out, (np.ndarray, np.generic, Tracer)):
            shape, dtype = tuple(out.shape), out.dtype
        else:
            shape, dtype = tuple(np.shape(out)), np.result_type(out)
        if shape != ():
            raise TypeError(f"grad: f must return a scalar, got an output of shape {shape}")
        if np.dtype(dtype).kind not in "f":
            raise TypeError(f"grad: f must return a real floating scalar, got dtype {dtype}")
        g = fn(np.ones((), dtype=dtype))
        g = g[0] if single else g
        value = out if isinstance(out, Tracer) or not isinstance(out, np.ndarray) else out[()]
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
    for i, (p, t) in enumerate(zip(primals, tangents)):
        pl, pd = tree_flatten(p)
        tl, td = tree_flatten(t)
        if pd != td:
            raise ValueError(f"jvp: tangent {i} has structure {td}, primal has {pd}")
        leaves = []
        for x, tx in zip(pl, tl):
            x = _as_primal(x, "jvp", i)
            tx = _check_tangent(tx, x, i)
            leaves.append(trace.new_input(x, tx))
        args.append(tree_unflatten(pd, leaves))
    try:
        result, aux, ol, od = _split_output(f(*args), has_aux, "jvp")
    finally:
        trace.done = True  # its tracers must not be used once f has returned
    seen = _owners(tree_flatten(list(tangents))[0]) | _owners(tree_flatten(list(primals))[0])
    vals, tans = [], []
    for o in ol:
        if isinstance(o, Tracer) and o._trace is trace:
            vals.append(o._value)
            t = o._tangent
            tans.append(np.zeros(o.shape, o.dtype) if t is None else _user_array(t, seen))
        else:
            vals.append(o)
            tans.append(np.zeros(np.shape(o), np.result_type(o)))
    out = (tree_unflatten(od, vals), tree_unflatten(od, tans))
    if has_aux:
        al, ad = tree_flatten(aux)
        return out + (tree_unflatten(ad, [_own_value(x, trace) for x in al]),)
    return out


# Jacobians, Hessians and Hessian-vector products are built from vjp and jvp alone, in
# derivatives.py; they are part of this module's API.
