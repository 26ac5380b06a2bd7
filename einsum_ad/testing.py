"""Gradient checking against finite differences, on every backend.

The function is evaluated on the arguments' own library (cast to float64 or complex128
there); random directions are drawn on the host and moved onto the arguments' library and
device; the comparisons run on NumPy copies of the results (host-side NumPy is this
module's only use of it).
"""

from __future__ import annotations

import numpy as np

from . import backend as _backend
from .transforms import jvp, vjp
from .tree import tree_flatten, tree_map

__all__ = ["check_grads"]


def _arr(x):
    """``x`` as an array of its backend (lists and numbers: NumPy), with that backend."""
    b = _backend.of(x)
    if b is None:
        b = _backend.default()
        x = b.asarray(x)
    return x, b


def _f64(x):
    x, b = _arr(x)
    k = _backend.kind(x.dtype)
    if k == "c":
        return b.astype(x, b.complex128)
    if k in "biuf":
        return b.astype(x, b.float64)
    raise TypeError(f"check_grads: argument of dtype {x.dtype} is not numeric")


def _like(rng, x):
    """A random array shaped like ``x``, of its dtype (float64 for integers), its library
    and its device."""
    x, b = _arr(x)
    shape = tuple(x.shape)
    r = rng.standard_normal(shape)
    k = _backend.kind(x.dtype)
    if k == "c":
        r = r + 1j * rng.standard_normal(shape)
    r = b.from_numpy(r, like=x)
    return b.astype(r, x.dtype) if k in "fc" else r


def _leaves(tree):
    """NumPy copies of the leaves of ``tree`` (computed, for a lazy backend)."""
    out = []
    for leaf in tree_flatten(tree)[0]:
        leaf, b = _arr(leaf)
        out.append(np.asarray(b.to_numpy(leaf)))
    return out


def _zeros_like(x):
    x, b = _arr(x)
    return b.zeros(tuple(x.shape), dtype=x.dtype, device=b.device(x))


def _inner(a_tree, b_tree):
    """Sum of elementwise products over matching leaves (no conjugation)."""
    return sum(np.sum(a * b) for a, b in zip(_leaves(a_tree), _leaves(b_tree)))


def _shift(args, i, v, scale):
    out = list(args)
    out[i] = tree_map(lambda x, d: x + scale * d, args[i], v)
    return tuple(out)


def _close(a, b, rtol, atol):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    diff = np.abs(a - b)
    tol = atol + rtol * np.maximum(np.abs(a), np.abs(b))
    return bool(np.all((diff <= tol) | both_nan))


def check_grads(f, args, order=2, modes=("rev",), eps=None, rtol=None, atol=None, seed=0):
    """Check ``f``'s derivatives against central finite differences, in float64.

    For each argument in turn, along a random direction ``v`` (and, in reverse mode, a
    random output cotangent ``u``): forward mode compares ``J·v`` from :func:`jvp` with
    ``(f(x + eps v) - f(x - eps v)) / 2eps``; reverse mode compares ``u·(J v)`` from the
    finite difference with ``(uᵀJ)·v`` from :func:`vjp`. With ``order > 1`` the same check
    runs again on the derivative function itself (the VJP with ``u`` fixed, or the JVP with
    ``v`` fixed), to ``order``. Complex values: the VJP is the plain (unconjugated)
    transpose, and the two products are compared by their real parts, ``Re(u·(J v))``
    against ``Re((uᵀJ)·v)``, which is the identity that transpose satisfies for every
    real-differentiable ``f`` (holomorphic or not, real inputs with complex outputs
    included); with random complex ``u`` and ``v`` it still catches any wrong entry of J.

    Args:
        f: a function of ``*args`` returning an array or pytree of arrays.
        args: a tuple of arguments (arrays or pytrees); they are cast to float64.
        order: the highest derivative order to check.
        modes: a subset of ``("fwd", "rev")``.
        eps: the finite-difference step (default 1e-5 scaled by the arguments' size).
        rtol, atol: tolerances (defaults 1e-5 and 1e-6).
        seed: seed of the random directions.

    Raises:
        AssertionError: naming the argument, the order, the mode and the two values.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.check_grads(lambda W, x: ea.einsum("ij,j->i", W, x),
        ...                (np.ones((2, 3)), np.arange(3.0)), order=2)
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError("check_grads: args must be a tuple of arguments")
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {m!r}; use 'fwd' and/or 'rev'")
    if int(order) < 1:
        raise ValueError(f"check_grads: order must be at least 1, got {order}")
    args = tuple(tree_map(_f64, a) for a in args)
    rtol = 1e-5 if rtol is None else rtol
    atol = 1e-6 if atol is None else atol
    rng = np.random.default_rng(seed)
    for mode in modes:
        _check(f, args, int(order), mode, eps, rtol, atol, rng, 1)


def _check(f, args, order, mode, eps, rtol, atol, rng, level):
    out = f(*args)
    for i, a in enumerate(args):
        v = tree_map(lambda x: _like(rng, x), a)
        scale = max(1.0, max((float(np.max(np.abs(x), initial=0.0)) for x in _leaves(a)),
                             default=1.0))
        h = (1e-5 if eps is None else eps) * scale
        plus, minus = f(*_shift(args, i, v, h)), f(*_shift(args, i, v, -h))
        # in float64 (complex128): a bool or integer output (a comparison, a count) has a
        # zero derivative, and numpy cannot subtract booleans
        fd = tree_map(lambda p, q, h=h: (_f64(p) - _f64(q)) / (2 * h), plus, minus)
        if mode == "fwd":
            tangents = tuple(v if j == i else tree_map(_zeros_like, x)
                             for j, x in enumerate(args))
            _, got = jvp(f, args, tangents)
            for lg, lf in zip(_leaves(got), _leaves(fd)):
                if not _close(lg, lf, rtol * 10, atol * 10):
                    _fail(mode, level, i, lg, lf)
        else:
            u = tree_map(lambda x: _like(rng, x), out)
            _, fn = vjp(f, *args)
            g = fn(u)[i]
            for lg, la in zip(_leaves(g), _leaves(a)):
                if lg.shape != la.shape:
                    raise AssertionError(
                        f"check_grads: rev-mode cotangent of argument {i} at order {level} has "
                        f"shape {lg.shape}, the argument has {la.shape}")
            # real parts: a VJP into a real input is Re(uᵀJ), so only Re(u·Jv) is its pairing
            got, want = np.real(_inner(g, v)), np.real(_inner(u, fd))
            if not _close(got, want, rtol * 10, atol * 10 * _size(u)):
                _fail(mode, level, i, got, want)
    if order > 1:
        if mode == "rev":
            u = tree_map(lambda x: _like(rng, x), out)

            def deriv(*xs):
                return vjp(f, *xs)[1](u)
        else:
            vs = tuple(tree_map(lambda x: _like(rng, x), a) for a in args)

            def deriv(*xs):
                return jvp(f, xs, vs)[1]
        _check(deriv, args, order - 1, mode, eps, rtol, atol, rng, level + 1)


def _size(tree):
    return max(1, sum(x.size for x in _leaves(tree)))


def _fail(mode, level, i, got, want):
    raise AssertionError(
        f"check_grads: {mode}-mode derivative of order {level} with respect to argument {i} "
        f"does not match finite differences:\n  {mode}-mode: {got}\n  finite differences: {want}"
    )
