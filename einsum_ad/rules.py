"""Every primitive and its VJP/JVP rule, in one table.

Sections: einsum (the one generic rule, plus ``spread``, its transpose), structural,
elementwise arithmetic, and the broadcasting/dtype fit applied by the backward pass. The
table continues in ``rules_elementwise.py`` (unary functions, selections, comparisons) and
``rules_structural.py`` (indexing, concatenation, max/min), imported at the end.
Multilinear operations have no rule of their own: they are einsum nodes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import contract as _contract
from .core import Primitive, Tracer
from .subscripts import Spec, normalize, parse, transpose_of_spread

__all__ = ["einsum_p", "spread_p", "reshape_p", "broadcast_to_p", "astype_p",
           "add_p", "sub_p", "neg_p", "div_p", "pow_p", "einsum_str", "mul",
           "unbroadcast", "fit", "accumulate"]


# ============================================================================ einsum
#
# The einsum node evaluates its canonical Spec along the cached plan's steps. Its VJP walks
# those steps backwards and applies the generic rule (``subscripts.adjoint``) to each step:
# every intermediate is computed once, and each operand's cotangent reuses the others'.
# When the operands are themselves traced by an outer trace, each step is an einsum node of
# that trace, so the backward pass (made of einsum nodes) can be differentiated again.


def _einsum_impl(*operands, spec, optimize="auto", checkpoint=False):
    return _contract.contract(spec, *operands, optimize=optimize)


einsum_p = Primitive("einsum", _einsum_impl)


def _step(step, *operands):
    """Run one plan step: its BLAS lowering on plain arrays, an einsum node on traced ones."""
    for x in operands:
        if isinstance(x, Tracer):
            return einsum_p(*operands, spec=step.spec, optimize=False)
    return step.run(*operands)


def _adjoint_of(adj, g, others):
    """The generic rule on one step: an operand's cotangent from the step's ``StepAdjoint``,
    the output cotangent ``g`` and the values of the other operands it reads."""
    if isinstance(g, Tracer) or any(isinstance(x, Tracer) for x in others):
        # an identity contraction (the adjoint of a sum, a trace) records no node
        out = g if adj.identity else einsum_p(g, *others, spec=adj.contraction,
                                                optimize=False)
        if adj.spread is not None:
            out = spread_p(out, spec=adj.spread, shape=adj.shape)
        return out
    out = adj.run(g, *others)
    return out if adj.spread is None else adj.spread_run(out)


def _needs(p, n, argnums):
    """What the backward of plan ``p`` does for the differentiated operands ``argnums``.

    Values are numbered as in the plan's steps (operand i < n, step j's result n + j).
    Returns (read, keep, program): the operands the backward reads (None: all of them), the
    step results the forward must keep, and the backward program, ``(j, ((i, adjoint,
    ids of the values it reads), ...))`` per step whose result needs a cotangent, last step
    first. Memoised on the plan.
    """
    found = p.memo.get(argnums)
    if found is not None:
        return found
    need = set(argnums)
    for j, step in enumerate(p.steps):
        if need.intersection(step.args):
            need.add(n + j)
    read, program = set(), []
    for j in range(len(p.steps) - 1, -1, -1):
        step = p.steps[j]
        if n + j not in need:
            continue
        todo = []
        for pos, i in enumerate(step.args):
            if i in need:
                adj = step.adjoints[pos]
                others = tuple(step.args[m] for m in adj.others)
                read.update(others)
                todo.append((i, adj, others))
        program.append((j, tuple(todo)))
    keep = frozenset(i - n for i in read if i >= n)
    read = None if read.issuperset(range(n)) else frozenset(read)
    p.memo[argnums] = found = (read, keep, tuple(program))
    return found


@einsum_p.def_fwd_vjp
def _einsum_fwd_vjp(args, params, argnums):
    shapes, dtypes, plain = [], [], True
    for a in args:
        if isinstance(a, Tracer):
            plain = False
        shapes.append(a.shape)
        dtypes.append(a.dtype)
    p = _contract.plan(params["spec"], shapes, dtypes, params.get("optimize", "auto"))
    n = len(args)
    read, keep, program = p.memo.get(argnums) or _needs(p, n, argnums)
    steps = p.steps
    step_fn = None if plain else _step
    checkpoint = len(steps) > 1 and params.get("checkpoint", False)
    if len(steps) == 1:
        ans, mids = (steps[0].run(*args) if plain else _step(steps[0], *args)), [None]
    else:
        ans, mids = _contract.run(p, args, step_fn=step_fn, keep=() if checkpoint else keep)
    # hold only what the backward reads (all operands when it recomputes intermediates)
    held = args if checkpoint or read is None else [a if i in read else None
                                                    for i, a in enumerate(args)]

    def vjp(g):
        inter = mids
        if checkpoint:  # recompute the intermediates instead of having kept them
            inter = _contract.run(p, held, step_fn=step_fn, keep=keep)[1]
        vals = list(held) + list(inter)
        fast = plain and not isinstance(g, Tracer)
        cts = [None] * len(vals)
        cts[-1] = g
        for j, todo in program:
            gj = cts[n + j]
            cts[n + j] = None
            if fast and len(todo) > 1 and gj.__class__ is np.ndarray \
                    and not gj.flags.c_contiguous:
                # a permuted view that two GEMMs read: copy it once, not once in each
                gj = np.ascontiguousarray(gj)
            for i, adj, others in todo:
                if not fast:
                    cts[i] = _adjoint_of(adj, gj, [vals[o] for o in others])
                    continue
                if len(others) == 1:  # a pairwise step: no list of operands to build
                    c = adj.run(gj, vals[others[0]])
                else:
                    c = adj.run(gj, *[vals[o] for o in others])
                cts[i] = c if adj.spread is None else adj.spread_run(c)
        return tuple(cts[i] for i in argnums)

    if len(steps) > 1 or not plain:
        return ans, vjp
    # the common one-step node on plain arrays: each adjoint is one lowered call
    adjs = tuple(steps[0].adjoints[i] for i in argnums)

    def vjp_one_step(g):
        if isinstance(g, Tracer):
            return vjp(g)
        cts = []
        for adj in adjs:
            c = adj.run(g, *[held[m] for m in adj.others])
            cts.append(c if adj.spread is None else adj.spread_run(c))
        return tuple(cts)

    return ans, vjp_one_step


@einsum_p.def_jvp
def _einsum_jvp(primals, tangents, params):
    # Multilinearity: the tangent is the sum over operands of the einsum with that
    # operand replaced by its tangent.
    ans = einsum_p(*primals, **params)
    tan = None
    for k, t in enumerate(tangents):
        if t is None:
            continue
        ops = list(primals)
        ops[k] = t
        term = einsum_p(*ops, **params)
        tan = term if tan is None else add_p(tan, term)
    return ans, tan


def _spread_impl(x, *, spec, shape):
    """Write ``x`` (labels ``spec.inputs[0]``, each once) into an array of ``shape`` with
    labels ``spec.output``: broadcast along new labels, onto the diagonal for repeats."""
    return _contract.spread_lowering(spec, tuple(shape))(x)


spread_p = Primitive("spread", _spread_impl)


@spread_p.def_vjp
def _spread_vjp(ans, x, *, spec, shape):
    return lambda g: (einsum_p(g, spec=transpose_of_spread(spec), optimize=False),)


spread_p.def_jvp(lambda p, t, params: (spread_p(p[0], **params), spread_p(t[0], **params)))


def einsum_str(subscripts: str, *operands, optimize="auto"):
    """Parse, normalise and apply einsum: the one entry point for string subscripts."""
    terms, output, ops = parse((subscripts,) + operands)
    spec = normalize(terms, output, [o.shape for o in ops])
    return einsum_p(*ops, spec=spec, optimize=optimize)


def mul(a, b):
    """Elementwise product with broadcasting, lowered to einsum (``"...,...->..."``)."""
    return einsum_str("...,...->...", a, b)


# ======================================================================== structural


reshape_p = Primitive("reshape", lambda x, *, shape: np.reshape(x, shape))
reshape_p.def_vjp(lambda ans, x, *, shape: lambda g: (reshape_p(g, shape=tuple(x.shape)),))
reshape_p.def_jvp(lambda p, t, params: (reshape_p(p[0], **params), reshape_p(t[0], **params)))

broadcast_to_p = Primitive("broadcast_to", lambda x, *, shape: np.broadcast_to(x, shape))
# the cotangent has the broadcast shape; the backward pass's ``fit`` sums it back
broadcast_to_p.def_vjp(lambda ans, x, *, shape: lambda g: (g,))
broadcast_to_p.def_jvp(
    lambda p, t, params: (broadcast_to_p(p[0], **params), broadcast_to_p(t[0], **params)))


def _astype_impl(x, *, dtype):
    x = np.asarray(x)
    if x.dtype.kind == "c" and np.dtype(dtype).kind != "c":
        x = x.real
    return x.astype(dtype, copy=False)


astype_p = Primitive("astype", _astype_impl)


def _casts_to_inexact(dtype) -> bool:
    """A cast to an integer or bool dtype is piecewise constant: its derivative is zero
    (as in JAX); a cast between floating/complex dtypes passes the derivative on."""
    return np.dtype(dtype).kind in "fc"


astype_p.def_vjp(lambda ans, x, *, dtype: lambda g: (
    astype_p(g, dtype=x.dtype) if _casts_to_inexact(dtype) else None,))
astype_p.def_jvp(lambda p, t, params: (
    astype_p(p[0], **params),
    astype_p(t[0], **params) if _casts_to_inexact(params["dtype"]) else None))


# ======================================================================== arithmetic


add_p = Primitive("add", np.add)
add_p.def_vjp(lambda ans, a, b: lambda g: (g, g))


@add_p.def_jvp
def _add_jvp(p, t, params):
    ans = add_p(*p)
    ta, tb = t
    tan = tb if ta is None else ta if tb is None else add_p(ta, tb)
    return ans, _fit_forward(tan, ans)


sub_p = Primitive("subtract", np.subtract)


@sub_p.def_fwd_vjp
def _sub_fwd_vjp(args, params, argnums):
    # only the differentiated operands' cotangents are computed (a - constant: no neg)
    ans = sub_p(*args)
    return ans, lambda g: tuple(g if i == 0 else neg_p(g) for i in argnums)


@sub_p.def_jvp
def _sub_jvp(p, t, params):
    ans = sub_p(*p)
    ta, tb = t
    tan = neg_p(tb) if ta is None else ta if tb is None else sub_p(ta, tb)
    return ans, _fit_forward(tan, ans)


neg_p = Primitive("negative", np.negative)
neg_p.def_vjp(lambda ans, x: lambda g: (neg_p(g),))
neg_p.def_jvp(lambda p, t, params: (neg_p(p[0]), neg_p(t[0])))

div_p = Primitive("divide", np.true_divide)


@div_p.def_fwd_vjp
def _div_fwd_vjp(args, params, argnums):
    # only the differentiated operands' cotangents are computed (x / constant: one div)
    a, b = args
    ans = div_p(a, b)
    return ans, lambda g: tuple(div_p(g, b) if i == 0 else neg_p(div_p(mul(g, ans), b))
                                for i in argnums)


@div_p.def_jvp
def _div_jvp(p, t, params):
    a, b = p
    ans = div_p(a, b)
    ta, tb = t
    tan = None if ta is None else div_p(ta, b)
    if tb is not None:
        term = neg_p(div_p(mul(tb, ans), b))
        tan = term if tan is None else add_p(tan, term)
    return ans, _fit_forward(tan, ans)


def _pow_impl(x, *, exponent):
    return np.power(x, np.asarray(exponent, dtype=np.result_type(x, exponent)))


pow_p = Primitive("power", _pow_impl)


def _dpow(x, exponent):
    if exponent == 0:
        return None
    if exponent == 1:
        return np.ones((), dtype=x.dtype)
    return mul(pow_p(x, exponent=exponent - 1), np.asarray(exponent, dtype=x.dtype))


@pow_p.def_vjp
def _pow_vjp(ans, x, *, exponent):
    def vjp(g):
        d = _dpow(x, exponent)
        return (None if d is None else mul(g, d),)
    return vjp


@pow_p.def_jvp
def _pow_jvp(p, t, params):
    d = _dpow(p[0], params["exponent"])
    return pow_p(p[0], **params), None if d is None else mul(t[0], d)


# ======================================================= broadcasting and dtype fitting


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
    from .subscripts import symbol
    return [symbol(i) for i in range(n)]


def fit(g, node):
    """Bring cotangent ``g`` to the shape and dtype of ``node`` (a reverse-trace Node)."""
    if tuple(g.shape) != tuple(node.shape):
        g = unbroadcast(g, node.shape)
    if g.dtype != node.dtype:
        g = astype_p(g, dtype=node.dtype)
    return g


def _fit_forward(tan, ans):
    """A forward-mode tangent brought to its primal's shape and dtype."""
    if tan is None:
        return None
    if tuple(tan.shape) != tuple(ans.shape):
        tan = broadcast_to_p(tan, shape=tuple(ans.shape))
    if tan.dtype != ans.dtype:
        tan = astype_p(tan, dtype=ans.dtype)
    return tan


def accumulate(a, b):
    return add_p(a, b)


# ============================================ continued: elementwise, structural, reductions
# Split out to keep modules small; the same table (registrations happen on import).
from . import rules_elementwise, rules_structural  # noqa: E402, F401
