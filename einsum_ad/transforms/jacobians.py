"""Jacobians, Hessians and Hessian-vector products, built from ``vjp`` and ``jvp`` alone.

One vjp per output element (``jacrev``), one jvp per input element (``jacfwd``);
``hessian`` is forward-over-reverse. The inner transform returns its rows as a pytree, so
that at the outermost level every piece is a plain array and its backend assembles them;
only a Jacobian taken *inside* another transform stacks traced pieces (with ``stack``, one
concatenate node). Jacobians and Hessians are taken with respect to arrays (tuple
``argnums`` included); ``hvp`` accepts pytrees.
"""

from __future__ import annotations

import math

from .. import backend as _backend
from .. import rules
from ..core import unwrap
from ..tree import tree_flatten, tree_unflatten
from ._args import argnums_wrapper, as_primal, output_spec
from .forward import jvp
from .reverse import grad, vjp
from .vmap import vmap

_kind = _backend.kind

__all__ = ["jacrev", "jacfwd", "jacobian", "hessian", "hvp"]





def _basis(shape, dtype, like):
    """The unit arrays of ``shape`` (``dtype``, on ``like``'s backend and device), in C
    order, one at a time (``arange(n) == i``: no element assignment, no n x n identity)."""
    v = unwrap(like)
    bk = _backend.of(v)
    n = math.prod(shape)
    positions = bk.arange(n, device=bk.device(v))
    for i in range(n):
        e = bk.astype(bk.equal(positions, bk.scalar(i, positions.dtype, bk.device(v))), dtype)
        yield bk.reshape(e, tuple(shape))


def _stack(pieces, axis):
    """Stack same-shaped arrays along a new ``axis`` (0 or -1): one concatenate node (plain
    arrays are stacked by their backend; traced pieces stay traced)."""
    ax = 0 if axis == 0 else len(pieces[0].shape)
    shape = tuple(pieces[0].shape)
    expanded = shape[:ax] + (1,) + shape[ax:]
    return rules.concatenate_p(*[rules.reshape_p(p, shape=expanded) for p in pieces], axis=ax)


def _assemble(pieces, lead, inner, dtype, like, axis=0):
    """One array of shape ``lead + inner`` (axis 0) or ``inner + lead`` (axis -1) from
    ``prod(lead)`` pieces of shape ``inner``, in C order; zeros of ``dtype`` (on ``like``'s
    backend) when there are no pieces (an empty input or output)."""
    shape = tuple(lead) + tuple(inner) if axis == 0 else tuple(inner) + tuple(lead)
    if not pieces:
        return rules.zeros(shape, like, dtype=dtype)
    return rules.reshape_p(_stack(pieces, axis), shape=shape)


def _array_args(dyn, fname):
    out = []
    for i, x in enumerate(dyn):
        if isinstance(x, (dict, list, tuple)):
            raise TypeError(f"{fname}: argument {i} is a {type(x).__name__}; Jacobians are "
                            "taken with respect to arrays (use hvp, vjp or jvp for pytrees)")
        out.append(as_primal(x, fname, i))
    return out


def _single_output(out, fname):
    if isinstance(out, (dict, list, tuple)):
        raise TypeError(f"{fname}: f must return a single array, got a {type(out).__name__}")
    shape, dtype, _ = output_spec(out)
    return shape, dtype


def _row_dtype(x, out_dtype):
    """The dtype of a reverse-mode Jacobian row for input ``x``: the input's, made complex
    (at the wider precision) when the output is complex."""
    if _kind(out_dtype) == "c" and _kind(x.dtype) != "c":
        return _backend.of(unwrap(x)).result_type(x.dtype, out_dtype)
    return x.dtype


def _rev_rows(partial, dyn, fname):
    """(output shape and dtype, [row of the Jacobian for each output element: a tuple over
    ``dyn``]).

    A row is the VJP of a unit cotangent ``e``. When the output is complex and an input is
    real, that VJP keeps only the real part of the row (the transpose of a real-linear map
    into C): the imaginary part is minus the VJP of ``1j * e``, so such a row takes two VJPs.
    """
    out, fn = vjp(partial, *dyn)
    shape, dtype = _single_output(out, fname)
    real_in = [_kind(x.dtype) != "c" for x in dyn]
    like = out if _backend.of(unwrap(out)) is not None else dyn[0]
    if _kind(dtype) != "c" or not any(real_in):
        return shape, dtype, [fn(e) for e in _basis(shape, dtype, like)]
    rows = []
    bk = _backend.of(unwrap(like))
    j = bk.scalar(1j, dtype, bk.device(unwrap(like)))  # in the output's precision
    for e in _basis(shape, dtype, like):
        re, im = fn(e), fn(j * e)
        rows.append(tuple(rules.sub_p(r, rules.mul(j, i)) if real else r
                          for r, i, real in zip(re, im, real_in)))
    return shape, dtype, rows


def jacrev(f, argnums=0):
    """The Jacobian of ``f`` by reverse mode: one VJP per output element.

    Args:
        f: a function of arrays returning one array.
        argnums: an int or a tuple of ints; the differentiated arguments must be arrays.

    Returns:
        A function returning the Jacobian, of shape ``out.shape + in.shape`` (a tuple of
        them when ``argnums`` is a tuple).

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.jacrev(lambda W, x: W @ x)(np.zeros((2, 3)), np.arange(3.0)).shape
        (2, 2, 3)
    """
    def jac(*args, **kwargs):
        partial, dyn, single = _differentiated(f, argnums, args, kwargs, "jacrev")
        shape, dtype, rows = _rev_rows(partial, dyn, "jacrev")
        jacs = tuple((_assemble([r[k] for r in rows], shape, x.shape,
                                       _row_dtype(x, dtype), x))
                     for k, x in enumerate(dyn))
        return jacs[0] if single else jacs

    jac.__name__ = f"jacrev({getattr(f, '__name__', 'f')})"
    return jac


jacobian = jacrev


def _differentiated(f, argnums, args, kwargs, fname):
    """``f`` as a function of the ``argnums`` arguments alone, those arguments (arrays), and
    whether ``argnums`` named a single one."""
    partial, dyn, single = argnums_wrapper(f, argnums, args, fname, kwargs)
    return partial, _array_args(dyn, fname), single


# elements of the block of unit tangents one batched JVP carries (32 MiB of float64): a
# larger Jacobian is built from several blocks, so memory stays bounded
_BLOCK = 1 << 22


def _unit_rows(start, stop, x):
    """Rows ``start:stop`` of the identity over ``x``'s elements, shaped ``(stop - start,)
    + x.shape``, in ``x``'s dtype on its backend and device (a constant)."""
    v = unwrap(x)
    bk = _backend.of(v)
    dev = bk.device(v)
    n = math.prod(x.shape)
    rows = bk.reshape(bk.arange(start, stop, device=dev), (stop - start, 1))
    eye = bk.equal(rows, bk.reshape(bk.arange(n, dtype=rows.dtype, device=dev), (1, n)))
    return bk.reshape(bk.astype(eye, x.dtype), (stop - start,) + tuple(x.shape))


def _batched_jvp(fun, dyn, k):
    """The tangent output of ``fun`` (a pytree) along every unit tangent of argument ``k``
    at once: one ``vmap``-ed JVP (each primitive batched over the tangents, the primal
    computed once), the tangents' axis last in each leaf (``leaf.shape + (n,)``), in
    blocks of at most ``_BLOCK`` tangent elements."""
    x = dyn[k]
    n = math.prod(x.shape)
    zeros = [rules.zeros(y.shape, y) for y in dyn]

    def column(e):
        tangents = list(zeros)
        tangents[k] = e
        return jvp(fun, dyn, tangents)[1]

    step = max(1, _BLOCK // max(n, 1))
    blocks = [vmap(column, out_axes=-1)(_unit_rows(lo, min(n, lo + step), x))
              for lo in range(0, n, step)]
    if len(blocks) == 1:
        return blocks[0]
    leaves = [tree_flatten(b)[0] for b in blocks]
    tree = tree_flatten(blocks[0])[1]
    return tree_unflatten(tree, [rules.concatenate_p(*ls, axis=len(ls[0].shape) - 1)
                                 for ls in zip(*leaves)])


def _fresh(x):
    """A plain result the user may write into (a broadcast view of a zero is copied)."""
    b = _backend.of(x)
    return b.copy(x) if b is not None and b.readonly(x) else x


def jacfwd(f, argnums=0):
    """The Jacobian of ``f`` by forward mode: one JVP per input element.

    Same arguments and result as :func:`jacrev`.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.jacfwd(lambda x: x * x)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    def jac(*args, **kwargs):
        partial, dyn, single = _differentiated(f, argnums, args, kwargs, "jacfwd")
        shape, dtype = _single_output(partial(*dyn), "jacfwd")
        jacs = tuple(_fwd_jacobian(partial, dyn, k, shape, dtype) for k in range(len(dyn)))
        return jacs[0] if single else jacs

    jac.__name__ = f"jacfwd({getattr(f, '__name__', 'f')})"
    return jac


def _fwd_jacobian(partial, dyn, k, shape, dtype):
    """``out.shape + x.shape`` from one batched JVP (zeros for an empty ``x``)."""
    x = dyn[k]
    full = tuple(shape) + tuple(x.shape)
    if math.prod(x.shape) == 0:
        return rules.zeros(full, x, dtype=dtype)
    return _fresh(rules.reshape_p(_batched_jvp(partial, dyn, k), shape=full))


def hessian(f, argnums=0):
    """The Hessian of ``f``, forward-over-reverse (``jacfwd(jacrev(f))``).

    Args:
        f: a function of arrays returning one array (usually a scalar).
        argnums: an int or a tuple of ints; the differentiated arguments must be arrays.

    Returns:
        A function returning the Hessian, of shape ``out.shape + in.shape + in.shape``
        (``in.shape + in.shape`` for a scalar ``f``). With a tuple ``argnums``, a tuple of
        tuples: ``H[i][j]`` has shape ``out.shape + in_i.shape + in_j.shape``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> A = np.array([[1.0, 2.0], [0.0, 3.0]])
        >>> ea.hessian(lambda x: ea.einsum("i,ij,j->", x, A, x))(np.ones(2))   # A + A^T
        array([[2., 2.],
               [2., 6.]])
    """
    def hess(*args, **kwargs):
        partial, dyn, single = _differentiated(f, argnums, args, kwargs, "hessian")
        shape, dtype = _single_output(partial(*dyn), "hessian")
        rows = lambda *xs: _rev_rows(partial, xs, "hessian")[2]
        n_out = math.prod(shape)
        # per argument k2, one batched JVP of the gradient rows along every unit tangent
        # of x2 (the last axis); H[k1][k2] gathers each output element's row for x1
        cols = [_batched_jvp(rows, dyn, k2) if math.prod(x2.shape) and n_out else None
                for k2, x2 in enumerate(dyn)]
        out = []
        for k1, x1 in enumerate(dyn):
            line = []
            for k2, x2 in enumerate(dyn):
                full = tuple(shape) + tuple(x1.shape) + tuple(x2.shape)
                if cols[k2] is None:
                    line.append(rules.zeros(full, x1, dtype=_row_dtype(x1, dtype)))
                    continue
                c = cols[k2]
                block = _stack([r[k1] for r in c], 0) if n_out > 1 else c[0][k1]
                line.append(_fresh(rules.reshape_p(block, shape=full)))
            out.append(tuple(line))
        out = tuple(out)
        return out[0][0] if single else out

    hess.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return hess


def hvp(f, primals, tangents):
    """The Hessian-vector product of scalar ``f`` at ``primals`` along ``tangents``.

    Forward-over-reverse: the JVP of ``grad(f)`` with respect to every argument, without
    forming the Hessian. Arguments may be pytrees.

    Args:
        f: a function of ``*primals`` returning a real scalar.
        primals: a tuple (or list) of arguments.
        tangents: structured like ``primals``.

    Returns:
        ``H @ tangents``, structured like ``primals``: a tuple (list) with one entry per
        argument, each structured like that argument.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.hvp(lambda x: ea.einsum("i,i,i->", x, x, x), (np.ones(2),), (np.ones(2),))
        (array([6., 6.]),)
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("hvp: primals and tangents must be tuples (or lists) of arguments")
    if not primals:
        raise ValueError("hvp: no primals given")
    g = grad(f, argnums=tuple(range(len(primals))))
    out = jvp(g, tuple(primals), tuple(tangents))[1]
    return type(primals)(out)

