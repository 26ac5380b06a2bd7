"""The einsum node: its rule, and the backward program that shares the forward's work (HOW).

Part of the one rule table (``rules/__init__.py`` lists every primitive). The einsum node
evaluates its canonical Spec along the cached plan's steps (``execute/``). Its VJP walks
those steps backwards and applies the generic rule (``spec.adjoint``) to each step: every
intermediate is computed once, and each operand's cotangent reuses the others'. When the
operands are themselves traced by an outer trace, each step is an einsum node of that
trace, so the backward pass (made of einsum nodes) can be differentiated again. Its JVP
is multilinearity: one einsum per operand with a tangent. ``spread`` (broadcasting along
labels an operand alone has, writing onto diagonals) is the generic rule's fix-up, a
primitive of its own whose transpose is a one-operand einsum.

A sliced node (``optimize`` a ``Sliced`` key: ``memory_limit=``, or a cotengra optimizer;
``execute/slicing.py``) is linear in each slice: its backward takes one slice of the
operands and of the output cotangent at a time, runs the same backward program on it
(the forward of that slice recomputed, its intermediates held only while it runs), and
adds each operand's cotangent into the slice's region. On traced operands each slice is
made of einsum nodes, ``getitem``, ``add`` and ``concatenate`` of the outer trace.
"""

from __future__ import annotations

from .. import backend as _backend
from .. import execute as _execute
from ..core import Primitive, Tracer, unwrap
from ..execute import slicing as _slicing
from ..spec import Spec, normalize, parse, relabel, symbol, transpose_of_spread
from .linear import add_p
from .structural import concatenate_p, getitem_p, scatter_add_p

__all__ = ["einsum_p", "spread_p", "einsum_str", "mul"]

_Sliced = _execute.Sliced
_BY_TYPE = _backend._BY_TYPE


def _einsum_impl(*operands, spec, optimize="auto", checkpoint=False, executor=None):
    if optimize.__class__ is _Sliced:
        sp = _slicing.sliced_plan(spec, [a.shape for a in operands],
                                  [a.dtype for a in operands], optimize,
                                  _backend.of(operands[0]) if operands else None)
        return _slicing.contract_sliced(sp, operands, executor)
    return _execute.contract(spec, *operands, optimize=optimize)


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
    opt = params.get("optimize", "auto")
    if opt.__class__ is _Sliced:
        return _sliced_fwd_vjp(args, params, argnums)
    shapes, dtypes, plain = [], [], True
    for a in args:
        if isinstance(a, Tracer):
            plain = False
        shapes.append(a.shape)
        dtypes.append(a.dtype)
    a0 = args[0]
    bk = _BY_TYPE.get(a0.__class__) if plain else None
    if bk is None:
        bk = _backend.of(unwrap(a0))
    p = _execute.plan(params["spec"], shapes, dtypes, opt, bk)
    n = len(args)
    read, keep, program = p.memo.get(argnums) or _needs(p, n, argnums)
    steps = p.steps
    step_fn = None if plain else _step
    checkpoint = len(steps) > 1 and params.get("checkpoint", False)
    if len(steps) == 1:
        ans, mids = (steps[0].run(*args) if plain else _step(steps[0], *args)), [None]
    else:
        ans, mids = _execute.run(p, args, step_fn=step_fn, keep=() if checkpoint else keep)
    # hold only what the backward reads (all operands when it recomputes intermediates)
    held = args if checkpoint or read is None else [a if i in read else None
                                                    for i, a in enumerate(args)]
    bk = p.backend

    def vjp(g):
        inter = mids
        if checkpoint:  # recompute the intermediates instead of having kept them
            inter = _execute.run(p, held, step_fn=step_fn, keep=keep)[1]
        vals = list(held) + list(inter)
        fast = plain and not isinstance(g, Tracer)
        cts = [None] * len(vals)
        cts[-1] = g
        for j, todo in program:
            gj = cts[n + j]
            cts[n + j] = None
            if fast and len(todo) > 1:
                # a permuted view that two GEMMs read: copied once (NumPy), not in each
                gj = bk.contiguous(gj)
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


# ------------------------------------------------------------------ sliced node


def _getitem(x, index):
    """One slice of a value: a view of a plain array, a ``getitem`` node of a traced one."""
    if isinstance(x, Tracer):
        return getitem_p(x, index=index)
    return _backend.of(x).getitem(x, index)


class _Assembly:
    """An array built from slices of traced (or mixed) values, with primitives only: the
    values of one region are added, and the regions joined by ``concatenate`` (or, where
    a sliced label repeats in the array, placed by ``scatter_add`` onto its diagonal
    blocks and added)."""

    def __init__(self, s, axes, shape):
        self.s, self.axes, self.shape = s, axes, tuple(shape)
        self.parts = {}

    def add(self, chunk, value):
        key = self.s.region(self.axes, chunk)
        prev = self.parts.get(key)
        if prev is None:
            self.parts[key] = (self.s.index(self.axes, len(self.shape), chunk), value)
        else:
            self.parts[key] = (prev[0], add_p(prev[1], value))

    def result(self):
        parts = self.parts
        if not self.axes:
            return parts[()][1]
        positions = [i for _, i in self.axes]
        if len(set(positions)) == len(positions):  # the regions tile the array
            return self._join((), 0)
        total = None
        for index, value in parts.values():
            placed = scatter_add_p(value, index=index, shape=self.shape)
            total = placed if total is None else add_p(total, placed)
        return total

    def _join(self, key, depth):
        if depth == len(self.axes):
            return self.parts[key][1]
        axis, i = self.axes[depth]
        pieces = [self._join(key + (c,), depth + 1) for c in range(self.s.counts[i])]
        return pieces[0] if len(pieces) == 1 else concatenate_p(*pieces, axis=axis)


def _slice_vjp(spec, key, argnums, g, *operands):
    """One slice's backward, the task an executor runs: the slice's forward recomputed
    along path ``key`` and the plan's backward program run on cotangent ``g``."""
    _, f = _einsum_fwd_vjp(list(operands), {"spec": spec, "optimize": key}, argnums)
    return f(g)


def _sliced_fwd_vjp(args, params, argnums):
    spec = params["spec"]
    plain = not any(isinstance(a, Tracer) for a in args)
    shapes = [a.shape for a in args]
    bk = _backend.of(unwrap(args[0]))
    sp = _slicing.sliced_plan(spec, shapes, [a.dtype for a in args], params["optimize"], bk)
    executor = params.get("executor")
    inner = {"spec": spec, "optimize": ("path", sp.path)}
    fwd = sp.forward
    if fwd.count == 1 and executor is None and _slicing.backward_slicing(sp).count == 1:
        return _einsum_fwd_vjp(args, inner, argnums)  # nothing to slice: the plain node
    out_shape = _slicing.output_shape(sp)
    if plain:
        ans = _slicing.contract_sliced(sp, args, executor)
    else:  # each slice's steps are nodes of the outer trace
        acc = _Assembly(fwd, fwd.output, out_shape)
        for chunk, ops in zip(fwd.chunks(), fwd.each(args, _getitem)):
            acc.add(chunk, _execute.run(fwd.inner, ops, step_fn=_step, keep=())[0])
        ans = acc.result()
    held = list(args)  # every slice of the backward is recomputed from the operands

    def vjp(g):
        s = _slicing.backward_slicing(sp)
        fast = plain and not isinstance(g, Tracer)
        if fast:
            accs = [_slicing.Accumulator(s, s.operands[k], shapes[k], bk) for k in argnums]
        else:
            accs = [_Assembly(s, s.operands[k], shapes[k]) for k in argnums]
        ndim = len(out_shape)
        out_axes = s.output
        chunks = s.chunks()
        grads = (g if not out_axes else _getitem(g, s.index(out_axes, ndim, c))
                 for c in s.chunks())
        if fast and executor is not None:
            mapper = _slicing.Mapper(executor)
            shared = [mapper.share(x) if not axes else x for x, axes in zip(held, s.operands)]
            if not out_axes:
                g = mapper.share(g)
                grads = (g for _ in s.chunks())
            key = ("path", sp.path)
            results = mapper.map(_slice_vjp, ((spec, key, argnums, gc, *ops) for gc, ops in
                                              zip(grads, s.each(shared, bk.getitem))))
        else:
            results = (_einsum_fwd_vjp(ops, inner, argnums)[1](gc)
                       for gc, ops in zip(grads, s.each(held, _getitem)))
        for chunk, cts in zip(chunks, results):
            for acc, c in zip(accs, cts):
                acc.add(chunk, c)
            cts = None
        return tuple(acc.result() for acc in accs)

    return ans, vjp


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
    return _execute.spread_lowering(spec, tuple(shape), _backend.of(x))(x)


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


# ======================================================================== batching
#
# A batch is one more label (DESIGN.md section 7): the batched operands carry a fresh label
# on their batch axis and the output carries it first. One contraction of the whole batch,
# planned once through the plan cache (a batched operand's label joins a GEMM's batch or
# free block), never a loop over examples.


def _fresh_label(spec):
    used = set(spec.labels) | set(spec.output)
    i = len(used)
    while symbol(i) in used:
        i += 1
    return symbol(i)


def _batched_spec(spec, dims):
    b = _fresh_label(spec)
    inputs = tuple(sub if d is None else sub[:d] + b + sub[d:]
                   for sub, d in zip(spec.inputs, dims))
    return relabel(Spec(inputs, b + spec.output))


@einsum_p.def_batch
def _einsum_batch(args, dims, params):
    p = dict(params)
    p["spec"] = _batched_spec(params["spec"], dims)
    return einsum_p(*args, **p), 0


@spread_p.def_batch
def _spread_batch(args, dims, params):
    (d,) = dims
    spec = params["spec"]
    b = _fresh_label(spec)
    sub = spec.inputs[0]
    batched = Spec((sub[:d] + b + sub[d:],), b + spec.output)
    return spread_p(args[0], spec=batched,
                    shape=(args[0].shape[d],) + tuple(params["shape"])), 0
