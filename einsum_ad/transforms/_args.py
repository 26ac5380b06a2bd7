"""What every transform shares: inputs checked as primals, outputs split, cotangents and
tangents checked against their primal, ``argnums``, and derivatives handed out unaliased.

Speaks only in the backend's vocabulary: a primal, cotangent or derivative is an array of
any backend (or a traced value of an outer transform).
"""

from __future__ import annotations

import operator

from .. import backend as _backend
from .. import rules
from ..core import Tracer, unwrap
from ..tree import tree_flatten

__all__ = ["as_primal", "own_value", "owners", "user_array", "split_output",
           "check_cotangent", "check_tangent", "argnums_wrapper", "output_spec", "untracked",
           "INEXACT"]

_of, _kind = _backend.of, _backend.kind
_BY_TYPE, _KINDS = _backend._BY_TYPE, _backend._KINDS
INEXACT = frozenset("fc")


def as_primal(x, fname, i):
    """A differentiable input: a traced value, or a floating or complex array of a backend
    (lists and Python numbers are read as NumPy arrays)."""
    if _BY_TYPE.get(x.__class__) is not None and _KINDS.get(x.dtype) in INEXACT:
        return x  # the common case
    if isinstance(x, Tracer):
        return x
    arr = _backend.to_array(x, i, fname, "input")
    if _kind(arr.dtype) not in "fc":
        raise TypeError(
            f"{fname}: input {i} has dtype {arr.dtype}; only floating or complex inputs can "
            "be differentiated (cast it, e.g. x.astype(float))"
        )
    return arr


def untracked(values):
    """The context factory under which the libraries of ``values`` record no autodiff graph
    of their own (torch: ``torch.no_grad``, so that a tensor that requires grad gives plain
    results and derivatives), or None when none of them keeps one."""
    for v in values:
        b = _of(unwrap(v))
        if b is not None and b.untracked is not None:
            return b.untracked
    return None


def own_value(x, trace):
    """What a leaf of ``f``'s output is outside ``trace``: its value, a constant otherwise."""
    if isinstance(x, Tracer) and x._trace is trace:
        return x._value
    return x


def owners(*groups):
    """The memory owners of the plain arrays among the values of ``groups``."""
    out = set()
    add, by_type = out.add, _BY_TYPE
    for values in groups:
        for v in values:
            b = by_type.get(v.__class__) or _of(v)
            if b is not None:
                add(b.owner(v))
    out.discard(None)  # the arrays of immutable libraries have no owner
    return out


def user_array(x, seen):
    """A derivative handed to the user: an array sharing memory with nothing in ``seen``
    (the owners of what the user passed in and of the derivatives already handed out),
    since a user may update it in place; ``seen`` gains its owner. Rules may return the
    same array for two operands (``add``: g and g), the cotangent itself, or a read-only
    broadcast view: those are copied (``Backend.handout``). Arrays of immutable libraries
    are handed out as they are."""
    b = _BY_TYPE.get(x.__class__)
    if b is None:
        b = _of(x)
        if b is None:
            return x
    return b.handout(x, seen)


def output_spec(o):
    """(shape, dtype, backend) of an output leaf: a traced value, an array or a number."""
    if isinstance(o, Tracer):
        return tuple(o.shape), o.dtype, _of(unwrap(o))
    b = _of(o)
    if b is None:
        b = _backend.default()
        o = b.asarray(o)
    return tuple(o.shape), o.dtype, b


def split_output(result, has_aux, fname):
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
        if not (isinstance(x, (Tracer, int, float, complex)) or _of(x) is not None):
            raise TypeError(f"{fname}: f returned a {type(x).__name__}, not an array")
    return result, aux, leaves, treedef


def check_cotangent(c, o, i):
    """Validate a cotangent leaf against output leaf ``o``: of ``o``'s library (a NumPy
    array is converted), its shape, a dtype that fits; cast it to ``o``'s dtype."""
    # (a cotangent of the value's library; a Tracer's type is registered as no array:
    # under nested traces o._value is a Tracer and the general path below runs)
    # (the traced value's attributes are read directly: Tracer.shape/.dtype are properties)
    if (o.__class__ is Tracer and c.__class__ is not Tracer
            and (b := _BY_TYPE.get(c.__class__)) is not None
            and (c.__class__ is (v := o._value).__class__ or b is _BY_TYPE.get(v.__class__))
            and c.shape == v.shape
            and (dt := c.dtype) == v.dtype and _KINDS.get(dt) in INEXACT):
        return c  # the common case: the output's library, nothing to check, nothing to cast
    oshape, odtype, bk = output_spec(o)
    if not isinstance(c, Tracer):
        if c is None or isinstance(c, (str, bytes)):
            raise TypeError(f"vjp_fn: cotangent {i} is {type(c).__name__}, not an array")
        cb = _of(c)
        if cb is not bk and cb is not None and cb is not _backend.default():
            raise TypeError(f"vjp_fn: cotangent {i} is from {cb.name} but the output is from "
                            f"{bk.name}; pass a {bk.name} or NumPy array")
        like = unwrap(o) if isinstance(o, Tracer) else o
        c = bk.asarray(c) if cb is None else c if cb is bk else bk.from_numpy(c, like=like)
    if tuple(c.shape) != oshape:
        raise ValueError(
            f"vjp_fn: cotangent {i} has shape {tuple(c.shape)} but the output has shape {oshape}"
        )
    kind = _kind(c.dtype)
    if kind not in "biufc" or (kind == "c" and _kind(odtype) != "c"):
        raise TypeError(
            f"vjp_fn: cotangent {i} has dtype {c.dtype}, which does not fit the output's "
            f"dtype {odtype}"
        )
    if c.dtype != odtype and _kind(odtype) in "fc":
        c = rules.astype_p(c, dtype=odtype)
    return c


def check_tangent(t, x, i):
    """Validate tangent ``t`` of primal ``x`` (argument ``i``); cast it to ``x``'s dtype.

    The same checks as a cotangent's: the primal's library (or NumPy, converted), shape,
    and a dtype that casts to the primal's without loss of meaning (a complex tangent of a
    real primal is an error, not a silently dropped imaginary part).
    """
    bk = _of(unwrap(x))
    if not isinstance(t, Tracer):
        if t is None or isinstance(t, (str, bytes)):
            raise TypeError(f"jvp: tangent {i} is {type(t).__name__}, not an array")
        tb = _of(t)
        if tb is not bk and tb is not None and tb is not _backend.default():
            raise TypeError(f"jvp: tangent {i} is from {tb.name} but primal {i} is from "
                            f"{bk.name}")
        t = bk.asarray(t) if tb is None else t if tb is bk else bk.from_numpy(t, like=unwrap(x))
    if tuple(t.shape) != tuple(x.shape):
        raise ValueError(f"jvp: tangent {i} has shape {tuple(t.shape)}, primal has "
                         f"{tuple(x.shape)}")
    kind, pdtype = _kind(t.dtype), x.dtype
    if kind not in "biufc" or (kind == "c" and _kind(pdtype) != "c"):
        raise TypeError(f"jvp: tangent {i} has dtype {t.dtype}, which does not fit the "
                        f"primal's dtype {pdtype} (shape {tuple(x.shape)})")
    if t.dtype != pdtype:
        t = rules.astype_p(t, dtype=pdtype)
    return t


def _index(a, argnums, fname):
    """One entry of ``argnums`` as a Python int (numpy integers included)."""
    try:
        return operator.index(a)
    except TypeError:
        raise TypeError(f"{fname}: argnums must be an int or a tuple of ints, got "
                        f"{argnums!r}") from None


def argnums_wrapper(f, argnums, args, fname, kwargs=None):
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
