"""Tracing: primitives, traced values, reverse- and forward-mode traces, the backward pass.

A transform (``vjp``, ``jvp``, ``make_graph``) opens a *trace* with a fresh level and wraps
its inputs as :class:`Tracer` objects of that trace. A :class:`Primitive` applied to
tracers hands the call to the highest-level trace among its arguments, which unwraps its
own tracers, applies the primitive to what is underneath (which may be tracers of outer
traces: that is how nesting works) and wraps the result. No global tape is kept: a graph
lives exactly as long as the values and closures that refer to it.

Array-free: values are whatever the backend's arrays are; nothing here computes with them.
The rules themselves (how each primitive differentiates) live in ``rules/``.
"""

from __future__ import annotations

import heapq
import itertools
import math

from . import backend as _backend

__all__ = ["Primitive", "Tracer", "Trace", "RevTrace", "JvpTrace", "BatchTrace",
           "BatchTracer", "Node", "backward", "is_traced", "unwrap", "concrete", "new_level"]

_levels = itertools.count(1)
# creation order of Nodes: a node is created after every node it reads, so processing nodes
# in decreasing order visits each one after all of its consumers (see ``backward``)
_node_seq = itertools.count()


def new_level() -> int:
    """A level above every trace opened so far."""
    return next(_levels)


class Primitive:
    """An operation the tracer records. Rules are registered on the instance.

    * ``impl(*args, **params)``: evaluate on plain values;
    * ``fwd_vjp(args, params, argnums) -> (ans, vjp)``: evaluate and return a function
      taking the output cotangent to one cotangent (or None for zero) per position of
      ``argnums``; ``args`` may hold tracers of outer traces, so whatever the rule computes
      with them is recorded there (the rule is itself differentiable);
    * ``jvp(primals, tangents, params) -> (ans, tangent)``: tangents are None for zero;
    * ``batch(args, dims, params) -> (ans, dim)``: ``dims`` gives, per argument, the axis
      of ``args[i]`` that holds the batch (None: not batched); ``ans`` holds the batch on
      axis ``dim`` (None: not batched). Like the other rules it computes with primitives,
      so that what it does is recorded by the traces underneath.

    A primitive with neither derivative rule is not differentiable: its result is a
    constant. A primitive without a batching rule cannot be ``vmap``-ed: it raises naming
    itself.
    """

    def __init__(self, name: str, impl, differentiable: bool = True):
        self.name = name
        self.impl = impl
        self.differentiable = differentiable
        self.fwd_vjp = None
        self.jvp = None
        self.batch = None

    def __repr__(self):
        return f"Primitive({self.name})"

    def def_vjp(self, make_vjp):
        """Register ``make_vjp(ans, *args, **params) -> (g -> tuple of cotangents)``.

        The tuple has one entry per argument (None where an argument takes no cotangent);
        only the entries for traced positions are read.
        """
        def fwd_vjp(args, params, argnums):
            for a in args:
                if isinstance(a, Tracer):  # an outer trace's value: record it there too
                    ans = self(*args, **params)
                    break
            else:
                ans = self.impl(*args, **params)
            return ans, make_vjp(ans, *args, **params)
        self.fwd_vjp = fwd_vjp
        self._positional_vjp = True
        return make_vjp

    def def_fwd_vjp(self, fwd_vjp):
        """Register a combined forward-and-VJP rule returning cotangents for ``argnums`` only."""
        self.fwd_vjp = fwd_vjp
        self._positional_vjp = False
        return fwd_vjp

    def def_jvp(self, jvp):
        self.jvp = jvp
        return jvp

    def def_batch(self, rule):
        """Register ``rule(args, dims, params) -> (ans, dim)`` (see the class docstring)."""
        self.batch = rule
        return rule

    def __call__(self, *args, **params):
        top = None
        for a in args:
            if isinstance(a, Tracer) and (top is None or a._trace.level > top.level):
                top = a._trace
        if top is None:
            return self.impl(*args, **params)
        if top.done:
            raise _escaped(self, top)
        return top.process(self, args, params)


def _escaped(prim, trace):
    return TypeError(
        f"einsum_ad: {prim.name!r} was applied to a traced value of a transform that has "
        f"already returned (trace level {trace.level}): the value escaped it, e.g. saved in "
        "a global, a closure or a cache while differentiating. Use the plain values the "
        "transform returns (outputs, has_aux) instead"
    )


class Trace:
    """A level of tracing; subclasses say what recording a primitive application means.

    ``transparent``: whether the value underneath each of its tracers is the traced value
    itself (reverse and forward mode), so that a function may read it (as a constant: an
    index, a mask). A batching trace holds every example at once and a compiling trace
    holds no value at all: reading the value underneath their tracers raises
    :meth:`opaque_error` (see :func:`concrete`).
    """

    transparent = True

    def __init__(self):
        self.level = new_level()
        # set by the transform when it returns; a tracer used after that has escaped it
        self.done = False

    def process(self, prim, args, params):  # pragma: no cover - overridden by every trace
        raise TypeError(f"{type(self).__name__} cannot record {prim.name!r}")

    def opaque_error(self, what: str) -> str:
        """The message for ``what`` (e.g. ``"bool()"``) needing a value this trace hides."""
        return (f"einsum_ad: {what} needs the value of a traced array, which "
                f"{type(self).__name__} does not hold")


class Tracer:
    """A value being traced. Supports numpy-style arithmetic (see ``numpy_ops``)."""

    __slots__ = ("_value", "_trace", "_node", "_tangent", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our operators: ndarray + Tracer -> Tracer

    def __init__(self, value, trace, node=None, tangent=None):
        self._value = value
        self._trace = trace
        self._node = node
        self._tangent = tangent

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _no_array(cls)

    @property
    def shape(self) -> tuple:
        return self._value.shape

    @property
    def ndim(self) -> int:
        return len(self._value.shape)

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def device(self):
        """The device of the value underneath (the array API's ``x.device``)."""
        return getattr(self._value, "device", None)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d traced array")
        return self.shape[0]

    def __repr__(self):
        return f"Tracer(shape={self.shape}, dtype={self.dtype}, level={self._trace.level})"

    def __array__(self, *args, **kwargs):
        raise TypeError(_read_error(
            self, "converting a traced value to an array",
            "einsum_ad: a traced value cannot be converted to a numpy array inside a "
            "differentiated function; use einsum_ad operations on it"))

    def __bool__(self):
        raise TypeError(_read_error(
            self, "the truth value (bool()) of a traced array",
            "einsum_ad: the truth value of a traced array is not defined "
            "(data-dependent control flow on traced values)"))

    def __float__(self):
        raise TypeError(_read_error(
            self, "float() of a traced array",
            "einsum_ad: float() of a traced value; use stop_gradient or the returned value "
            "instead"))

    def __int__(self):
        raise TypeError(_read_error(
            self, "int() of a traced array",
            "einsum_ad: int() of a traced value; use the returned value instead"))

    def __complex__(self):
        raise TypeError(_read_error(
            self, "complex() of a traced array",
            "einsum_ad: complex() of a traced value; use the returned value instead"))

    def __index__(self):
        raise TypeError(_read_error(
            self, "using a traced array as an index or a size (__index__)",
            "einsum_ad: a traced value cannot be used as a Python integer (an index, a "
            "size); use the returned value instead"))

    def item(self, *args):
        raise TypeError(_read_error(
            self, "item() of a traced array",
            f"einsum_ad: .item() of a traced value (shape {tuple(self.shape)}): its value is "
            "not fixed while the function is being differentiated; return it (has_aux=True "
            "for extra outputs) or use stop_gradient and einsum_ad operations on it"))

    def tolist(self):
        raise TypeError(_read_error(
            self, "tolist() of a traced array",
            f"einsum_ad: .tolist() of a traced value (shape {tuple(self.shape)}): its value "
            "is not fixed while the function is being differentiated; return it (has_aux="
            "True for extra outputs) and convert the returned array"))

    def __setitem__(self, key, value):
        raise TypeError(
            f"einsum_ad: a traced value (shape {tuple(self.shape)}) cannot be assigned to "
            "(x[...] = v): arrays are immutable under tracing. Build the new array instead: "
            "einsum_ad.where(mask, v, x) to replace elements, or einsum_ad.concatenate / "
            "einsum_ad.stack to assemble it from pieces")

    # A copy stays the same traced value: deepcopy (of the value, or of a pytree holding
    # it) must never detach it from its trace, and a copy cannot change it (traced values
    # are immutable). Pickling would carry its value into an unrelated process or trace.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce_ex__(self, protocol):
        raise TypeError(
            f"einsum_ad: a traced value (shape {tuple(self.shape)}) cannot be pickled: it "
            "belongs to a transform that is running. Pickle the plain values the transform "
            "returns instead")

    __reduce__ = __reduce_ex__

    __hash__ = object.__hash__


def _no_array(cls):
    """Tell the backend layer that a tracer type is no array of a library. Its ``of``
    infers a type's library once and caches the answer; a tracer answers
    ``__array_namespace__`` (einsum_ad.numpy's, for array API code), so the first tracer
    it met would register the type as an array of that namespace, and every later check
    "is this a plain array?" (jit's signature, vjp's owners of inputs, the namespace's
    boundary) would take tracers for plain arrays: a jitted function then ran its
    compiled program on them and their derivative was lost."""
    _backend._BY_TYPE[cls] = None


_no_array(Tracer)


def _read_error(x, what, default):
    """The message for reading ``x``'s value: the first trace on its way down that holds
    no readable value (vmap, jit) explains itself; otherwise ``default``."""
    while isinstance(x, Tracer):
        if not x._trace.transparent:
            return x._trace.opaque_error(what)
        x = x._value
    return default


def is_traced(x) -> bool:
    return isinstance(x, Tracer)


def unwrap(x):
    """The plain value underneath every level of tracing.

    For finding the backend, dtype and device of a value. Under ``vmap`` it holds every
    example (its shape is not the traced shape) and under ``jit`` it is an abstract
    placeholder: to *read* values, use :func:`concrete`.
    """
    while isinstance(x, Tracer):
        x = x._value
    return x


def concrete(x, what: str):
    """The value of ``x`` (a plain value, or traced by transparent traces only), read by
    ``what`` (e.g. ``"argmax"``) as a constant.

    Raises TypeError, in the words of the trace, when a trace on the way down holds no
    readable value: a batched value (``vmap``) holds every example at once, a compiled
    one (``jit``) none at all. Reading it there would be silently wrong.
    """
    v = x
    while isinstance(v, Tracer):
        if not v._trace.transparent:
            raise TypeError(v._trace.opaque_error(what))
        v = v._value
    return v


# ------------------------------------------------------------------------ reverse mode


class Node:
    """One recorded primitive application in a reverse trace."""

    __slots__ = ("primitive", "params", "vjp", "parents", "positional", "shape", "dtype",
                 "argnums", "seq", "__weakref__")

    def __init__(self, primitive, params, vjp, parents, argnums, positional, shape, dtype):
        self.seq = next(_node_seq)  # larger than the seq of every parent
        self.primitive = primitive
        self.params = params
        self.vjp = vjp
        self.parents = parents  # tuple of Node, aligned with argnums
        self.argnums = argnums
        self.positional = positional
        self.shape = shape
        self.dtype = dtype

    @property
    def spec(self):
        return self.params.get("spec") if self.params else None

    def __repr__(self):
        name = self.primitive.name if self.primitive else "input"
        return f"Node({name}, shape={self.shape})"


class RevTrace(Trace):
    """Reverse mode: each primitive application becomes a Node with a VJP closure."""

    def __init__(self, record=False):
        super().__init__()
        self.nodes = [] if record else None  # evaluation order, for make_graph

    def new_input(self, value):
        """A traced input holding ``value`` (a backend array or an outer trace's value)."""
        return Tracer(value, self, Node(None, None, None, (), (), False, value.shape,
                                        value.dtype))

    def process(self, prim, args, params):
        vals = list(args)
        argnums = []
        parents = []
        i = 0
        for a in args:
            if a.__class__ is Tracer and a._trace is self:
                vals[i] = a._value
                argnums.append(i)
                parents.append(a._node)
            i += 1
        fwd_vjp = prim.fwd_vjp
        if fwd_vjp is None or not prim.differentiable:
            if prim.differentiable:
                raise TypeError(f"no reverse-mode rule for primitive {prim.name!r}")
            return prim(*vals, **params)
        argnums = tuple(argnums)
        ans, vjp = fwd_vjp(vals, params, argnums)
        node = Node(prim, params, vjp, tuple(parents), argnums, prim._positional_vjp,
                    ans.shape, ans.dtype)
        if self.nodes is not None:
            self.nodes.append(node)
        return Tracer(ans, self, node)


def backward(roots, accumulate, fit):
    """Propagate cotangents from ``roots``, a list of (node, cotangent) pairs.

    Returns {id(node): cotangent} for the nodes left holding one (the inputs).
    ``accumulate(a, b)`` adds two cotangents; ``fit(g, node)`` brings a cotangent to the
    node's shape and dtype (undoing broadcasting: the one place that does it; not called
    when they already match).

    Nodes are processed in decreasing creation order (``Node.seq``) from a heap that a
    node enters when its first cotangent arrives: every consumer of a node was created
    after it, so each node runs once, after all of its consumers, and nodes no cotangent
    reaches are never visited.
    """
    if len(roots) == 1:
        node, g = roots[0]
        if node.vjp is not None:
            for p in node.parents:
                if p.vjp is not None:
                    break
            else:
                return _backward_one(node, g, fit, accumulate)
    cts = {}
    heap = []
    for node, g in roots:
        key = id(node)
        prev = cts.get(key)
        if prev is None:
            cts[key] = g
            if node.vjp is not None:
                heap.append((-node.seq, node))
        else:
            cts[key] = accumulate(prev, g)
    if len(heap) > 1:
        heapq.heapify(heap)
    pop, push = heapq.heappop, heapq.heappush
    while heap:
        node = pop(heap)[1]
        outs = node.vjp(cts.pop(id(node)))
        if node.positional:
            outs = [outs[i] for i in node.argnums]
        for parent, c in zip(node.parents, outs):
            if c is None:
                continue
            if c.shape != parent.shape or c.dtype != parent.dtype:
                c = fit(c, parent)
            key = id(parent)
            prev = cts.get(key)
            if prev is None:
                cts[key] = c
                if parent.vjp is not None:
                    push(heap, (-parent.seq, parent))
            else:
                cts[key] = accumulate(prev, c)
    return cts


def _backward_one(node, g, fit, accumulate):
    """``backward`` for one node whose operands are all inputs: no order to find."""
    outs = node.vjp(g)
    if node.positional:
        outs = [outs[i] for i in node.argnums]
    cts = {}
    for parent, c in zip(node.parents, outs):
        if c is None:
            continue
        if c.shape != parent.shape or c.dtype != parent.dtype:
            c = fit(c, parent)
        prev = cts.get(id(parent))
        cts[id(parent)] = c if prev is None else accumulate(prev, c)
    return cts


# ------------------------------------------------------------------------ forward mode


class JvpTrace(Trace):
    """Forward mode: each traced value carries a tangent (None for a zero tangent)."""

    def new_input(self, value, tangent):
        return Tracer(value, self, tangent=tangent)

    def process(self, prim, args, params):
        primals = list(args)
        tangents = [None] * len(args)
        for i, a in enumerate(args):
            if isinstance(a, Tracer) and a._trace is self:
                primals[i] = a._value
                tangents[i] = a._tangent
        if not prim.differentiable:
            return prim(*primals, **params)
        if prim.jvp is None:
            raise TypeError(f"no forward-mode rule for primitive {prim.name!r}")
        if all(t is None for t in tangents):
            return prim(*primals, **params)
        ans, tan = prim.jvp(primals, tangents, params)
        return Tracer(ans, self, tangent=tan)


# ------------------------------------------------------------------------ batching


class BatchTracer(Tracer):
    """A batched value: ``_value`` holds every example, stacked along axis ``_bdim``.

    Its ``shape`` is one example's (the value's without the batch axis): a function under
    ``vmap`` sees the shapes it would see unbatched.
    """

    __slots__ = ("_bdim",)

    def __init__(self, value, trace, bdim):
        self._value = value
        self._trace = trace
        self._node = None
        self._tangent = None
        self._bdim = bdim

    @property
    def shape(self) -> tuple:
        s = tuple(self._value.shape)
        return s[:self._bdim] + s[self._bdim + 1:]

    @property
    def ndim(self) -> int:
        return len(self._value.shape) - 1

    def __repr__(self):
        return (f"BatchTracer(shape={self.shape}, dtype={self.dtype}, batch axis "
                f"{self._bdim} of {self._trace.axis_size}, level={self._trace.level})")


class BatchTrace(Trace):
    """Batching (``vmap``): each primitive application becomes one application to the
    whole batch, by the primitive's batching rule (``Primitive.batch``)."""

    transparent = False

    def __init__(self, axis_size: int):
        super().__init__()
        self.axis_size = axis_size

    def new_input(self, value, bdim):
        return BatchTracer(value, self, bdim)

    def process(self, prim, args, params):
        vals, dims = list(args), [None] * len(args)
        for i, a in enumerate(args):
            if a.__class__ is BatchTracer and a._trace is self:
                vals[i] = a._value
                dims[i] = a._bdim
        rule = prim.batch
        if rule is None:
            raise TypeError(f"vmap: no batching rule for primitive {prim.name!r}: it cannot "
                            "be applied to a batched value (apply it per example in a "
                            "Python loop, outside vmap)")
        ans, dim = rule(vals, tuple(dims), params)
        return ans if dim is None else BatchTracer(ans, self, dim)

    def opaque_error(self, what: str) -> str:
        return (f"einsum_ad.vmap: {what} needs the values of a batched array, which holds "
                f"all {self.axis_size} examples at once: vmap cannot read one example's "
                "value (e.g. for Python control flow, an index or a mask). Select with "
                "ea.where instead of branching, or apply the function per example")
