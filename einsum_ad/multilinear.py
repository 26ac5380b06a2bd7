"""Multilinear operations, each lowered to one einsum node: no derivative rule of their own.

A lowering is a few lines that build subscripts and call the einsum primitive; the generic
rule in ``subscripts.adjoint`` differentiates every one of them.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import rules
from .core import Tracer
from .subscripts import Spec, normalize, parse, symbol

__all__ = ["einsum", "matmul", "multiply", "transpose", "asarray"]


def _check_operand(x, k, fname="einsum"):
    """Plain operands become numpy arrays; non-numeric ones raise TypeError."""
    if isinstance(x, Tracer):
        return x
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{fname}: operand {k} is {type(x).__name__}, not a numeric array")
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
        raise TypeError(
            f"{fname}: operand {k} has dtype {arr.dtype} (shape {arr.shape}); a numeric "
            "array (bool, integer, floating or complex) is required"
        )
    return arr


def asarray(x):
    """``x`` as an array: traced values are returned as they are."""
    return x if isinstance(x, Tracer) else np.asarray(x)


def _weak(x, like):
    """A Python scalar takes the dtype numpy's promotion gives it next to ``like``."""
    return np.asarray(x, dtype=np.result_type(like.dtype, x))


def _finish(out):
    """Plain results look like numpy's: a 0-d result is a numpy scalar."""
    if isinstance(out, np.ndarray) and out.ndim == 0:
        return out[()]
    return out


def einsum(*operands, optimize="auto", checkpoint=False):
    """Evaluate an Einstein summation; a drop-in for :func:`numpy.einsum`, and differentiable.

    Accepts explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``) subscripts, ``...``
    broadcasting, repeated indices (``"ii->i"``), and the interleaved form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``, which may use more than 52 distinct labels.
    Contraction order is chosen by opt_einsum once per (spec, shapes, dtypes, optimizer).

    Args:
        *operands: subscripts followed by the arrays, or the interleaved form.
        optimize: an opt_einsum optimizer name (``"auto"``, ``"greedy"``, ``"optimal"``,
            ``"dp"``, ...), ``True`` (``"auto"``), ``False`` (one n-ary step), or an explicit
            path (a list of tuples, optionally led by ``"einsum_path"``).
        checkpoint: when differentiated, keep no intermediate of the contraction for the
            backward pass but recompute them there (less memory, one more forward);
            the gradients are identical.

    Returns:
        A numpy array (a numpy scalar for a 0-d result) on plain inputs, or a traced value.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> ea.einsum("ij,jk->ik", np.eye(2), np.ones((2, 3)))
        array([[1., 1., 1.],
               [1., 1., 1.]])
        >>> float(ea.einsum("ii", np.arange(9.0).reshape(3, 3)))
        12.0
    """
    terms, output, ops = parse(operands)
    ops = [_check_operand(o, k) for k, o in enumerate(ops)]
    spec = normalize(terms, output, [o.shape for o in ops])
    return _finish(rules.einsum_p(*ops, spec=spec, optimize=optimize,
                                  checkpoint=bool(checkpoint)))


def _is_pyscalar(x):
    return isinstance(x, numbers.Number) and not isinstance(x, np.generic)


def _pair(a, b):
    """Two arithmetic operands: Python scalars are weakly typed, as in numpy."""
    if _is_pyscalar(a) and _is_pyscalar(b):
        return np.asarray(a), np.asarray(b)
    if _is_pyscalar(a):
        b = _check_operand(b, 1, "arithmetic")
        return _weak(a, b), b
    a = _check_operand(a, 0, "arithmetic")
    return a, (_weak(b, a) if _is_pyscalar(b) else _check_operand(b, 1, "arithmetic"))


def multiply(a, b):
    """Elementwise product with broadcasting: one einsum node ``"...,...->..."``."""
    a, b = _pair(a, b)
    return _finish(rules.mul(a, b))


def matmul(a, b):
    """Matrix product with numpy's rules (1-D promotion, batch broadcasting): one einsum node."""
    a, b = _check_operand(a, 0, "matmul"), _check_operand(b, 1, "matmul")
    for k, x in enumerate((a, b)):
        if x.ndim == 0:
            raise ValueError(f"matmul: operand {k} is 0-d; matmul needs at least 1 dimension")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else -1]:
        raise ValueError(
            f"matmul: core dimension mismatch: operand 0 has shape {a.shape} and operand 1 "
            f"has shape {b.shape} ({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else -1]})"
        )
    left = "...ij" if a.ndim > 1 else "j"
    right = "...jk" if b.ndim > 1 else "j"
    out = ("...i" if a.ndim > 1 else "...") + ("k" if b.ndim > 1 else "")
    return _finish(rules.einsum_str(f"{left},{right}->{out}", a, b))


def transpose(a, axes=None):
    """Permute axes (reverse them by default): one einsum node."""
    a = _check_operand(a, 0, "transpose")
    labels = "".join(symbol(i) for i in range(a.ndim))
    if axes is None:
        axes = tuple(range(a.ndim))[::-1]
    axes = [int(ax) for ax in axes]
    if sorted(ax % a.ndim if a.ndim else ax for ax in axes) != list(range(a.ndim)) \
            or any(not -a.ndim <= ax < a.ndim for ax in axes):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes")
    out = "".join(labels[ax % a.ndim] for ax in axes)
    return _finish(rules.einsum_p(a, spec=Spec((labels,), out), optimize="auto"))


