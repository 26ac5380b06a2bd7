"""Compiled programs: what ``jit`` records, how it optimises it and how it runs it.

A :class:`Program` is a list of equations, each one primitive applied to earlier values,
program inputs or constants, recorded by a :class:`ProgramTrace` while the function runs
on abstract values (shape, dtype, device: no value a Python branch could read). The passes
of :func:`optimize` rewrite it with what only a whole program shows:

* einsum fusion: an einsum node whose only consumer is another einsum node is merged into
  it, one n-ary einsum planned as a whole by opt_einsum (``x @ A @ B`` in any order runs in
  the best order; a transpose of a product folds into the product's spec);
* duplicate subexpressions merged, dead equations removed, constant-only ones folded.

:class:`Executable` then turns the optimised program into one straight-line Python
function: each einsum node becomes the kernels of its cached plan's steps (``execute/``),
every other primitive its implementation, bound once. Intermediates that the backend can
write in place (``Backend.out_kernel``: NumPy's ufuncs and matmul) go into buffers the
program owns and reuses from call to call; an array handed to the caller never shares
memory with a buffer, a constant, an input or another output. :func:`bind` instead applies
the program's primitives to traced values, so that a compiled function is differentiated,
batched or inlined into another program by the transforms around it.

Where it sits: after ``rules/`` (it must know which primitive is the einsum node, and runs
every primitive's ``impl``) and next to the transforms that build it (``jit``) or show it
(``make_graph``, and ``explain`` above them); it reaches arrays only through the backend's
vocabulary and the execution layer's plans, like the rules do.
"""

from __future__ import annotations

import itertools
from functools import lru_cache, partial

import opt_einsum

from .. import backend as _backend
from .. import execute as _execute
from .. import rules
from ..core import Trace, Tracer
from ..execute.lowering import Pairwise, Unary
from ..spec import Spec, relabel, symbol
from ..tree import LEAF
from .graph import Graph, GraphNode

__all__ = ["Program", "Var", "Const", "Literal", "Eqn", "ProgramTrace", "Abstract",
           "optimize", "Executable", "bind"]


# ---------------------------------------------------------------------------- the IR


class Var:
    """A value of a program: an input or the result of one equation."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = dtype

    def __repr__(self):
        return f"Var({self.shape}, {_backend.dtype_name(self.dtype)})"


class Const:
    """A constant operand (an array of the program's backend, captured when tracing)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    @property
    def shape(self):
        return tuple(getattr(self.value, "shape", ()))

    @property
    def dtype(self):
        return getattr(self.value, "dtype", None)

    def __repr__(self):
        return f"Const({self.shape})"


class Literal:
    """An output leaf that is no array (None, a Python number): returned as it is."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Eqn:
    """``out = prim(*ins, **params)``; ``ins`` are Vars and Consts."""

    __slots__ = ("prim", "ins", "params", "out")

    def __init__(self, prim, ins, params, out):
        self.prim = prim
        self.ins = tuple(ins)
        self.params = params
        self.out = out

    def __repr__(self):
        return f"Eqn({self.prim.name}, {len(self.ins)} operands -> {self.out})"


class Program:
    """A recorded computation: ``inputs`` (Vars, one per array leaf of the arguments),
    ``eqns`` in evaluation order, ``outputs`` (Var, Const or Literal per output leaf).

    ``stats`` counts what each pass did (``recorded``, ``simplified``, ``duplicates``,
    ``dead``, ``fused``, ``folded``, ``equations``).
    """

    def __init__(self, inputs, eqns, outputs, backend, stats=None, out_tree=None,
                 device=None):
        self.device = device  # of the inputs: where buffers are allocated
        self.inputs = list(inputs)
        self.eqns = list(eqns)
        self.outputs = list(outputs)
        self.backend = backend
        self.stats = dict(stats or {"recorded": len(self.eqns)})
        self.out_tree = out_tree  # the outputs' pytree structure (None: a flat list)

    def __repr__(self):
        return (f"Program({len(self.inputs)} inputs, {len(self.eqns)} equations, "
                f"{len(self.outputs)} outputs)")

    def einsum_nodes(self):
        """The einsum equations, as (position, Spec, operand shapes, dtype, optimize)."""
        return [(i, e.params["spec"], tuple(x.shape for x in e.ins), e.out.dtype,
                 e.params.get("optimize", "auto"))
                for i, e in enumerate(self.eqns) if e.prim is rules.einsum_p]

    def graph(self) -> Graph:
        """The program as a :class:`~einsum_ad.transforms.graph.Graph` (``make_graph``)."""
        refs = {var: ("input", k) for k, var in enumerate(self.inputs)}
        nodes = []
        for i, e in enumerate(self.eqns):
            refs[e.out] = ("node", i)
            slots = tuple(refs.get(x, ("const", None)) if isinstance(x, Var)
                          else ("const", None) for x in e.ins)
            spec = e.params.get("spec") if e.prim is rules.einsum_p else None
            nodes.append(GraphNode(i, e.prim.name, None if spec is None else str(spec),
                                   e.out.shape, e.out.dtype, slots, e.params))
        outputs = [refs.get(o, ("const", None)) if isinstance(o, Var) else ("const", None)
                   for o in self.outputs]
        return Graph(nodes, [(v.shape, v.dtype) for v in self.inputs], outputs)


# ------------------------------------------------------------------- abstract values

_NO_VALUE = (
    "einsum_ad.jit: {what} needs the value of an array traced by jit, which has none "
    "while the function is compiled: one compiled program serves every value of the "
    "array arguments. For Python control flow (if, while, and/or) on such a value, mark "
    "the argument that decides it static (jit(f, static_argnums=...) or "
    "static_argnames=...), or compute both branches and select with "
    "ea.where(condition, x, y); to read it, return it from the jitted function")


class _NoValue(TypeError, AttributeError):
    """Reading an abstract value: a TypeError (and, for ``hasattr`` probes, an
    AttributeError)."""


class Abstract:
    """What an array traced by ``jit`` is while its function is compiled: a shape, a
    dtype and a device, and no value. Every attempt to read a value raises TypeError
    saying why (an array library handed one calls ``__array__`` or a method)."""

    __slots__ = ("shape", "dtype", "device")

    def __init__(self, shape, dtype, device):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.device = device

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self):
        return f"Abstract(shape={self.shape}, dtype={self.dtype})"

    def __getattr__(self, name):
        raise _NoValue(_NO_VALUE.format(what=f"reading .{name} of it"))

    def __array__(self, *args, **kwargs):
        raise _NoValue(_NO_VALUE.format(what="converting it to an array"))

    def __bool__(self):
        raise _NoValue(_NO_VALUE.format(what="its truth value (bool())"))

    def __float__(self):
        raise _NoValue(_NO_VALUE.format(what="float() of it"))

    def __int__(self):
        raise _NoValue(_NO_VALUE.format(what="int() of it"))

    def __index__(self):
        raise _NoValue(_NO_VALUE.format(what="using it as an index or a size"))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        raise _NoValue(_NO_VALUE.format(what="iterating over it"))

    def __getitem__(self, key):
        raise _NoValue(_NO_VALUE.format(what="indexing it outside einsum_ad"))


_ABSTRACT_TYPES: dict = {}


def _abstract_type(bk):
    """The Abstract subclass of backend ``bk`` (registered with it, so that the backend
    of an abstract value is found like any array's: constants join its library)."""
    cls = _ABSTRACT_TYPES.get(bk)
    if cls is None:
        cls = type(f"Abstract_{bk.name}", (Abstract,), {"__slots__": ()})
        _backend.register(bk, cls)
        _ABSTRACT_TYPES[bk] = cls
    return cls


def abstract(value, bk=None):
    """An Abstract of ``value``'s shape, dtype and device."""
    bk = _backend.of(value) if bk is None else bk
    return _abstract_type(bk)(tuple(value.shape), value.dtype, bk.device(value))


# ----------------------------------------------------------------------- the trace


class ProgramTrace(Trace):
    """Records each primitive application as an equation of a program.

    Its tracers hold an :class:`Abstract` value: a function can read shapes and dtypes but
    no value. To know each result's shape and dtype, the trace evaluates the primitive's
    ``impl`` on a representative value of each operand (the call's own arguments), kept
    aside where the function cannot reach them.
    """

    transparent = False

    def __init__(self):
        super().__init__()
        self.eqns = []
        self.values = {}  # Var -> its representative value (shape and dtype inference)
        self.consts = {}  # interned constants: small ones by value, others by identity

    def new_input(self, value):
        """A traced input standing for arrays like ``value`` (its representative)."""
        var = Var(value.shape, value.dtype)
        self.values[var] = value
        return Tracer(abstract(value), self, node=var)

    def const(self, x):
        """The Const of a plain operand (equal small arrays share one)."""
        key = _const_key(x)
        found = self.consts.get(key)
        if found is None:
            found = self.consts[key] = (Const(x), x)  # holding x keeps its id unique
        return found[0]

    def process(self, prim, args, params):
        ins, vals = [], []
        for a in args:
            if isinstance(a, Tracer):
                if a._trace is not self:
                    raise TypeError(
                        f"einsum_ad.jit: {prim.name!r} is applied to a value traced by an "
                        "outer transform (e.g. grad) that the jitted function does not "
                        "receive as an argument: a closure over a traced value, which a "
                        "compiled program cannot refer to. Pass it to the jitted function "
                        "as an argument")
                ins.append(a._node)
                vals.append(self.values[a._node])
            else:
                ins.append(self.const(a))
                vals.append(a)
        out = prim.impl(*vals, **params)
        var = Var(out.shape, out.dtype)
        self.values[var] = out
        self.eqns.append(Eqn(prim, ins, params, var))
        return Tracer(abstract(out), self, node=var)

    def opaque_error(self, what: str) -> str:
        return _NO_VALUE.format(what=what)


def _const_key(x):
    shape = getattr(x, "shape", None)
    if shape is not None and len(shape) <= 1 and (not shape or shape[0] <= 16):
        b = _backend.of(x)
        if b is not None and not b.lazy:  # a lazy array is not computed for a key
            try:
                return ("value", b, str(x.dtype), tuple(shape),
                        b.to_numpy(x).tobytes())
            except Exception:  # noqa: BLE001 - a value that cannot be read: by identity
                pass
    return ("id", id(x))


# ------------------------------------------------------------------------- the passes


def optimize(program: Program, fuse: bool = True, simplify: bool = True) -> Program:
    """The optimised copy of ``program``: with ``simplify``, identities removed, duplicates
    merged, constant equations folded and dead equations dropped; with ``fuse``, einsum
    chains fused. ``program`` itself is left as it was recorded."""
    stats = {"recorded": len(program.eqns), "simplified": 0, "duplicates": 0, "fused": 0,
             "folded": 0, "dead": 0}
    eqns = [Eqn(e.prim, e.ins, dict(e.params), e.out) for e in program.eqns]
    outputs = list(program.outputs)
    if simplify:
        eqns, outputs, stats["simplified"] = _simplify(eqns, outputs)
        eqns, outputs, stats["duplicates"] = _cse(eqns, outputs)
        eqns, stats["dead"] = _dce(eqns, outputs)
    if fuse:
        eqns, stats["fused"] = _fuse(eqns, outputs)
    if simplify:
        eqns, outputs, stats["folded"] = _fold(eqns, outputs)
        eqns, dead = _dce(eqns, outputs)
        stats["dead"] += dead
    stats["equations"] = len(eqns)
    return Program(program.inputs, eqns, outputs, program.backend, stats, program.out_tree,
                   program.device)


def _substitute(eqns, outputs, subst):
    """Replace every use of a Var in ``subst`` (equations are in evaluation order, so one
    pass suffices once ``subst`` maps to final values)."""
    if not subst:
        return eqns, outputs
    for e in eqns:
        e.ins = tuple(subst.get(x, x) for x in e.ins)
    return eqns, [subst.get(o, o) for o in outputs]


def _identity(e):
    """The operand an equation merely passes on (None if it computes something)."""
    p, x = e.prim, e.ins[0] if e.ins else None
    if x is None or len(e.ins) != 1:
        return None
    if p is rules.einsum_p:
        spec = e.params["spec"]
        sub = spec.inputs[0]
        return x if sub == spec.output and len(set(sub)) == len(sub) else None
    if p in (rules.reshape_p, rules.broadcast_to_p):
        return x if tuple(e.params["shape"]) == tuple(x.shape) else None
    if p is rules.astype_p:
        return x if e.params["dtype"] == x.dtype else None
    if p is rules.pow_p:  # x ** 1 (a power rule's derivative of x ** 2)
        ex = e.params["exponent"]
        return x if isinstance(ex, (int, float)) and ex == 1 and e.out.dtype == x.dtype \
            else None
    return None


def _simplify(eqns, outputs):
    subst, kept = {}, []
    for e in eqns:
        e.ins = tuple(subst.get(x, x) for x in e.ins)
        same = _identity(e)
        if same is not None:
            subst[e.out] = same
        else:
            kept.append(e)
    outputs = [subst.get(o, o) for o in outputs]
    return kept, outputs, len(eqns) - len(kept)


def _freeze(v):
    """A hashable stand-in for a parameter value (arrays by identity)."""
    if isinstance(v, (tuple, list)):
        return (type(v).__name__,) + tuple(_freeze(x) for x in v)
    if isinstance(v, slice):
        return ("slice", v.start, v.stop, v.step)
    if isinstance(v, dict):
        return ("dict",) + tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    try:
        hash(v)
    except TypeError:
        return ("id", id(v))
    if _backend.of(v) is not None:  # an array parameter (an index): by identity
        return ("id", id(v))
    return v


def _cse(eqns, outputs):
    seen, subst, kept = {}, {}, []
    for e in eqns:
        e.ins = tuple(subst.get(x, x) for x in e.ins)
        key = (e.prim, tuple(id(x) for x in e.ins), _freeze(e.params))
        first = seen.get(key)
        if first is not None:
            subst[e.out] = first.out
        else:
            seen[key] = e
            kept.append(e)
    outputs = [subst.get(o, o) for o in outputs]
    return kept, outputs, len(eqns) - len(kept)


def _dce(eqns, outputs):
    live = {o for o in outputs if isinstance(o, Var)}
    kept = []
    for e in reversed(eqns):
        if e.out in live:
            kept.append(e)
            live.update(x for x in e.ins if isinstance(x, Var))
    kept.reverse()
    return kept, len(eqns) - len(kept)


def _fold(eqns, outputs):
    subst, kept = {}, []
    for e in eqns:
        e.ins = tuple(subst.get(x, x) for x in e.ins)
        if e.ins and all(isinstance(x, Const) for x in e.ins):
            subst[e.out] = Const(e.prim.impl(*[x.value for x in e.ins], **e.params))
        else:
            kept.append(e)
    outputs = [subst.get(o, o) for o in outputs]
    return kept, outputs, len(eqns) - len(kept)


# ---------------------------------------------------------------------- einsum fusion


def _fusable(e) -> bool:
    if e.prim is not rules.einsum_p or e.params.get("checkpoint"):
        return False
    opt = e.params.get("optimize", "auto")
    if isinstance(opt, (list, tuple)):
        return False  # an explicit path: the user's order is kept
    dt = e.out.dtype
    return all(x.dtype == dt for x in e.ins)


def compose(outer: Spec, k: int, inner: Spec) -> Spec:
    """The one spec of ``outer`` whose operand ``k`` is the result of ``inner``: inner's
    output labels become operand k's labels (a repeated one reads inner's diagonal), its
    summed labels fresh ones. Canonical (relabelled in order of appearance)."""
    sub = outer.inputs[k]
    names = dict(zip(inner.output, sub))
    used = set(outer.labels) | set(outer.output)
    fresh = (symbol(i) for i in itertools.count() if symbol(i) not in used)
    for lab in inner.labels:
        if lab not in names:
            names[lab] = next(fresh)
    renamed = tuple("".join(names[c] for c in s) for s in inner.inputs)
    return relabel(Spec(outer.inputs[:k] + renamed + outer.inputs[k + 1:], outer.output))


@lru_cache(maxsize=4096)
def _cost(spec: Spec, shapes) -> int:
    """opt_einsum's FLOP count of ``spec`` on its best ('auto') path (a one-operand
    einsum: the size of its operand, which it reads once)."""
    if len(spec.inputs) == 1:
        n = 1
        for d in shapes[0]:
            n *= d
        return n
    return int(opt_einsum.contract_path(str(spec), *shapes, shapes=True,
                                        optimize="auto")[1].opt_cost)


def _fuse(eqns, outputs):
    """Merge each einsum equation whose result has one use, in another einsum, into that
    one, while opt_einsum's cost of the merged node does not exceed the two apart."""
    uses: dict = {}
    for e in eqns:
        for x in e.ins:
            if isinstance(x, Var):
                uses[x] = uses.get(x, 0) + 1
    for o in outputs:
        if isinstance(o, Var):
            uses[o] = uses.get(o, 0) + 2  # an output is never fused away
    producer = {e.out: e for e in eqns if _fusable(e)}
    gone = set()
    for e in eqns:
        if not _fusable(e):
            continue
        merged = True
        while merged:
            merged = False
            for k, x in enumerate(e.ins):
                p = producer.get(x)
                if p is None or p in gone or uses.get(x) != 1 or p.out.dtype != e.out.dtype:
                    continue
                spec = compose(e.params["spec"], k, p.params["spec"])
                ins = e.ins[:k] + p.ins + e.ins[k + 1:]
                shapes = tuple(y.shape for y in ins)
                before = _cost(e.params["spec"], tuple(y.shape for y in e.ins)) + \
                    _cost(p.params["spec"], tuple(y.shape for y in p.ins))
                if _cost(spec, shapes) > before:
                    continue
                e.ins = ins
                e.params = dict(e.params, spec=spec, optimize="auto")
                gone.add(p)
                merged = True
                break
    return [e for e in eqns if e not in gone], len(gone)


# ------------------------------------------------------------------ binding (traced)


def bind(program: Program, leaves):
    """Apply ``program`` to ``leaves`` (arrays or traced values, one per input) through
    its primitives: the transforms tracing them record the optimised program."""
    env = dict(zip(program.inputs, leaves))
    for e in program.eqns:
        env[e.out] = e.prim(*[env[x] if isinstance(x, Var) else x.value for x in e.ins],
                            **e.params)
    return [env[o] if isinstance(o, Var) else o.value for o in program.outputs]


# ------------------------------------------------------------------------ compiling

# Primitives whose impl is the backend's standard function of this name applied to the
# operands, so that the program may call that function directly, and its ``out=`` form
# (``Backend.out_kernel``) where the backend has one. tests/test_jit.py checks each entry
# against the primitive's impl.
UFUNCS = {
    rules.add_p: "add", rules.sub_p: "subtract", rules.neg_p: "negative",
    rules.conj_p: "conj", rules.div_p: "divide", rules.powt_p: "pow", rules.exp_p: "exp",
    rules.log_p: "log", rules.log1p_p: "log1p", rules.expm1_p: "expm1",
    rules.sqrt_p: "sqrt", rules.abs_p: "abs", rules.tanh_p: "tanh", rules.sin_p: "sin",
    rules.cos_p: "cos", rules.sign_p: "sign", rules.maximum_p: "maximum",
    rules.minimum_p: "minimum", rules.equal_p: "equal", rules.not_equal_p: "not_equal",
    rules.less_p: "less", rules.less_equal_p: "less_equal", rules.greater_p: "greater",
    rules.greater_equal_p: "greater_equal", rules.logical_and_p: "logical_and",
}

# Primitives whose result never shares memory with an operand (a new array each call);
# any other may return a view of one, which the program tracks.
FRESH = frozenset(UFUNCS) | frozenset((
    rules.relu_p, rules.where_p, rules.pow_p, rules.sigmoid_p, rules.softplus_p,
    rules.max_p, rules.min_p, rules.log_softmax_p, rules.concatenate_p,
    rules.scatter_add_p))


class _Instr:
    """One call of the compiled function: ``out = kernel(*args[, out=buffer])``."""

    __slots__ = ("kernel", "args", "out", "shape", "fresh", "out_spec", "exact",
                 "elementwise")

    def __init__(self, kernel, args, out, shape, fresh, out_spec=None, exact=False,
                 elementwise=False):
        self.kernel = kernel
        self.args = args  # value ids (ints) of what it reads
        self.out = out  # value id of its result
        self.shape = tuple(shape)  # of its result
        self.fresh = fresh  # its result is a new array, never a view of an operand
        self.out_spec = out_spec  # (shape, dtype) it may write into, or None
        self.exact = exact  # with a buffer, the result is the buffer itself
        self.elementwise = elementwise  # may write into an operand it reads (in place)


def _relu_kernel(bk, dtype, device, out_kernel):
    zero = bk.scalar(0, dtype, device)
    return lambda x, out=None: out_kernel(x, zero, out=out)


class Executable:
    """A program compiled to one straight-line Python function of its input arrays.

    Calling it runs the kernels in order with no tracer and no per-primitive bookkeeping.
    With ``reuse_buffers`` (and a backend with ``out=`` kernels), intermediates are
    written into buffers allocated on the first call and reused by the next ones; each
    call takes a set of buffers from a pool and returns it, so concurrent calls (threads)
    never share one. ``source`` is the generated code, for reading.
    """

    def __init__(self, program: Program, reuse_buffers: bool = True):
        self.program = program
        bk = self.backend = program.backend
        self.reuse = reuse_buffers and bk is not None
        names: dict = {}  # Var -> value id
        self._consts: list = []
        self.kernels: list = []
        instrs: list = []
        inputs = list(range(len(program.inputs)))
        for var, i in zip(program.inputs, inputs):
            names[var] = i
        nvals = itertools.count(len(inputs))
        self._kind = {i: ("in", i) for i in inputs}  # value id -> what it is
        const_ids: dict = {}

        def ref(x):
            if isinstance(x, Var):
                return names[x]
            key = id(x)
            found = const_ids.get(key)
            if found is None:
                found = const_ids[key] = next(nvals)
                self._kind[found] = ("const", len(self._consts))
                self._consts.append(x.value)
            return found

        for e in program.eqns:
            args = [ref(x) for x in e.ins]
            if e.prim is rules.einsum_p:
                instrs += self._einsum(e, args, names, nvals)
            else:
                out = names[e.out] = next(nvals)
                instrs.append(self._primitive(e, args, out))
        self.instrs = instrs
        self.outputs = []
        for o in program.outputs:
            if isinstance(o, Var):
                self.outputs.append(names[o])
            elif isinstance(o, Const):
                self.outputs.append(ref(o))
            else:
                self.outputs.append(o)  # a Literal
        self._pool: list = []
        self._allocate()
        self._generate()
        self.run = self._fn  # ``run(*arrays)``: the outputs (their pytree, when known)

    # ---------------------------------------------------------------- instructions

    def _einsum(self, e, args, names, nvals):
        bk = self.backend
        spec, opt = e.params["spec"], e.params.get("optimize", "auto")
        shapes = [x.shape for x in e.ins]
        dtypes = [x.dtype for x in e.ins]
        p = _execute.plan(spec, shapes, dtypes, opt, bk)
        vals = list(args)
        dts = list(dtypes)
        out_ok = self.reuse and bk.out_kernel("matmul") is not None \
            and bk.out_kernel("multiply") is not None
        instrs = []
        for j, step in enumerate(p.steps):
            sargs = [vals[i] for i in step.args]
            sdts = [dts[i] for i in step.args]
            last = j == len(p.steps) - 1
            dt = e.out.dtype if last else (sdts[0] if len(set(sdts)) == 1
                                           else bk.result_type(*sdts))
            run = step.run
            if not last and all(self._kind.get(a, ("",))[0] == "const" for a in sargs):
                # a step between constants only (a fused node's constant operands):
                # contracted once, here, and the result is a constant of the program
                folded = run(*[self._consts[self._kind[a][1]] for a in sargs])
                out = next(nvals)
                self._kind[out] = ("const", len(self._consts))
                self._consts.append(folded)
                vals.append(out)
                dts.append(dt)
                continue
            out = next(nvals)
            spec_out, exact = None, False
            if out_ok and isinstance(run, Pairwise) and run.out_shape is not None:
                spec_out = (tuple(run.out_shape), dt)
                exact = tuple(run.out_shape) == tuple(step.shape) and (
                    run.mode == "mul" or (run.shape_r is None and run.perm_r is None))
            fresh = not isinstance(run, Unary) or run.kind == "reduction"
            instrs.append(_Instr(run, sargs, out, step.shape, fresh, spec_out, exact))
            vals.append(out)
            dts.append(dt)
        names[e.out] = instrs[-1].out
        return instrs

    def _primitive(self, e, args, out):
        bk, prim = self.backend, e.prim
        name = UFUNCS.get(prim)
        if name is not None and not e.params:
            ok = bk.out_kernel(name) if self.reuse else None
            kernel = ok if ok is not None else getattr(bk, name)
            spec_out = (e.out.shape, e.out.dtype) if ok is not None else None
            return _Instr(kernel, args, out, e.out.shape, True, spec_out, True, True)
        if prim is rules.relu_p and self.reuse and bk.out_kernel("maximum") is not None:
            kernel = _relu_kernel(bk, e.out.dtype, self.program.device,
                                  bk.out_kernel("maximum"))
            return _Instr(kernel, args, out, e.out.shape, True, (e.out.shape, e.out.dtype),
                          True, True)
        if prim is rules.spread_p:
            lowered = _execute.spread_lowering(e.params["spec"], tuple(e.params["shape"]),
                                               bk)
            return _Instr(lowered, args, out, e.out.shape, lowered.groups is not None)
        kernel = partial(prim.impl, **e.params) if e.params else prim.impl
        return _Instr(kernel, args, out, e.out.shape, prim in FRESH)

    # ----------------------------------------------------------------- buffers

    def _allocate(self):
        """Decide which results go into reused buffers, and where outputs are copied.

        A value reaching an output through views (a result that may alias its operands)
        never gets a buffer; a buffer is reused only once every value that may alias it
        has been read for the last time (or, for an elementwise kernel, by this very
        instruction, which then writes in place)."""
        instrs = self.instrs
        n = len(instrs)
        producer = {ins.out: k for k, ins in enumerate(instrs)}
        out_ids = [o for o in self.outputs if isinstance(o, int)]
        escaping = set(out_ids)
        for ins in reversed(instrs):
            if ins.out in escaping and not ins.fresh:
                escaping.update(ins.args)
        last = {}
        for k, ins in enumerate(instrs):
            for a in ins.args:
                last[a] = k
        for o in out_ids:
            last[o] = n
        roots: dict = {i: {self._kind[i]} for i in self._kind}
        slots: list = []  # (shape, dtype)
        busy: list = []  # per slot: the last instruction that may read it
        exact_slot: dict = {}  # value id -> slot, when the value is that buffer itself
        self.slot_of: dict = {}
        for k, ins in enumerate(instrs):
            slot = None
            if ins.out_spec is not None and ins.out not in escaping and self.reuse:
                slot = self._find_slot(ins, k, slots, busy, exact_slot, last, roots)
            if slot is not None:
                self.slot_of[k] = slot
                roots[ins.out] = {("buf", slot)}
                if ins.exact:
                    exact_slot[ins.out] = slot
                busy[slot] = max(busy[slot], last.get(ins.out, k))
            else:
                r = {("fresh", ins.out)}
                if not ins.fresh:
                    for a in ins.args:
                        r |= roots[a]
                roots[ins.out] = r
                for t in r:
                    if t[0] == "buf":
                        busy[t[1]] = max(busy[t[1]], last.get(ins.out, k))
        self.slots = slots
        self.roots = roots
        self.last = last
        self.producer = producer

    def _find_slot(self, ins, k, slots, busy, exact_slot, last, roots):
        shape, dtype = ins.out_spec
        if ins.elementwise:  # write in place into an operand read here for the last time
            for a in ins.args:
                s = exact_slot.get(a)
                if s is not None and busy[s] == k and last.get(a) == k \
                        and slots[s] == (shape, dtype) \
                        and not any(("buf", s) in roots[b] for b in ins.args if b != a):
                    return s
        for s, (sshape, sdtype) in enumerate(slots):
            if busy[s] < k and sshape == shape and sdtype == dtype:
                return s
        slots.append((shape, dtype))
        busy.append(k)
        return len(slots) - 1

    # ---------------------------------------------------------------- generating

    def _generate(self):
        bk = self.backend
        glob = {"_copy": bk.copy if bk is not None else (lambda x: x),
                "_readonly": bk.readonly if bk is not None else (lambda x: False),
                "_finish": bk.finish if bk is not None else (lambda x: x)}
        name = {}
        for i, kind in self._kind.items():
            if kind[0] == "in":
                name[i] = f"x{kind[1]}"
            else:
                name[i] = f"c{kind[1]}"
                glob[name[i]] = self._consts[kind[1]]
        args = [f"x{i}" for i in range(len(self.program.inputs))]
        lines = [f"def _program({', '.join(args)}):"]
        if self.slots:
            glob["_pool"] = self._pool
            glob["_alloc"] = self._buffers
            lines.append("    _B = _pool.pop() if _pool else _alloc()")
            lines.append(f"    {', '.join(f'b{s}' for s in range(len(self.slots)))}, = _B")
        freed_after: dict = {}
        out_set = {o for o in self.outputs if isinstance(o, int)}
        for v, k in self.last.items():
            if v in self.producer and v not in out_set and self.producer[v] != k:
                freed_after.setdefault(k, []).append(v)
        for k, ins in enumerate(self.instrs):
            kname = f"k{k}"
            glob[kname] = ins.kernel
            self.kernels.append(ins.kernel)
            name[ins.out] = f"v{ins.out}"
            call = ", ".join(name[a] for a in ins.args)
            slot = self.slot_of.get(k)
            if slot is not None:
                call += (", " if call else "") + f"out=b{slot}"
            lines.append(f"    {name[ins.out]} = {kname}({call})")
            dead = [name[v] for v in freed_after.get(k, ())]
            if dead:
                lines.append(f"    del {', '.join(dead)}")
        # outputs: fresh, unaliased arrays (0-d ones as the library hands them out)
        rets, seen = [], set()
        for j, o in enumerate(self.outputs):
            if not isinstance(o, int):
                glob[f"_lit{j}"] = o.value
                rets.append(f"_lit{j}")
                continue
            expr = name[o]
            roots = self.roots[o]
            shape = self._shape_of(o)
            if shape == ():
                rets.append(f"_finish({expr})")
                continue
            shared = roots & seen or any(t[0] in ("in", "const") for t in roots)
            seen |= roots
            k = self.producer.get(o)
            if shared:
                expr = f"_copy({expr})"
            elif k is not None and not self.instrs[k].fresh:
                expr = f"(_copy({expr}) if _readonly({expr}) else {expr})"
            rets.append(expr)
        if self.slots:
            lines.append("    _pool.append(_B)")
        tree = self.program.out_tree
        if tree is None:
            lines.append(f"    return [{', '.join(rets)}]")
        else:
            lines.append(f"    return {_tree_expr(tree, iter(rets), glob)}")
        self.source = "\n".join(lines)
        exec(compile(self.source, "<einsum_ad.jit program>", "exec"), glob)  # noqa: S102
        self._fn = glob["_program"]

    def _shape_of(self, v):
        kind = self._kind.get(v)
        if kind is None:
            return self.instrs[self.producer[v]].shape
        if kind[0] == "in":
            return tuple(self.program.inputs[kind[1]].shape)
        return tuple(getattr(self._consts[kind[1]], "shape", ()))

    # ------------------------------------------------------------------ running

    def _buffers(self):
        bk, dev = self.backend, self.program.device
        return tuple(bk.empty(shape, dtype=dtype, device=dev) for shape, dtype in self.slots)

    def __call__(self, leaves):
        return self._fn(*leaves)


def _tree_expr(tree, leaves, glob):
    """Python source building the pytree ``tree`` from the expressions ``leaves``."""
    if tree is LEAF or tree.__class__ is LEAF.__class__:
        return next(leaves)
    kind, aux, children = tree
    items = [_tree_expr(c, leaves, glob) for c in children]
    if kind == "tuple":
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if kind == "list":
        return "[" + ", ".join(items) + "]"
    if kind == "dict":
        keys = []
        for k in aux:
            name = f"_key{len(glob)}"
            glob[name] = k
            keys.append(name)
        return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items)) + "}"
    if kind == "namedtuple":
        name = f"_tuple{len(glob)}"
        glob[name] = aux
        return f"{name}({', '.join(items)})"
    return "None"
