"""``jit``: a function traced once per signature into a program, optimised, compiled, replayed.

The first call for a signature (the arrays' shapes, dtypes, backend and device, the pytree
structure, the static arguments) traces the function on abstract values into a
:class:`~einsum_ad.transforms.program.Program` (``program.py``), optimises it (einsum
fusion, duplicates, dead code, constants) and compiles it into straight-line code whose
intermediates live in reused buffers. Later calls with that signature run the compiled
code: no tracer, no per-primitive bookkeeping. Under another transform (``grad`` of a
jitted function, ``vmap`` of one, ``jit`` of a function calling one), the optimised
program is applied through its primitives instead, so that transform differentiates,
batches or inlines it.
"""

from __future__ import annotations

import functools
import inspect
import operator
import threading
from collections import OrderedDict

from .. import backend as _backend
from ..core import BatchTracer, Tracer, unwrap
from ..tree import tree_flatten, tree_unflatten
from ._args import owners, user_array
from .program import Const, Executable, Literal, Program, ProgramTrace, bind, optimize

__all__ = ["jit", "Jitted"]

_BY_TYPE = _backend._BY_TYPE
_PYSCALARS = (bool, int, float, complex)


def _argnums(value, what):
    if value is None:
        return ()
    seq = (value,) if not isinstance(value, (tuple, list, set, frozenset)) else tuple(value)
    try:
        return tuple(operator.index(v) for v in seq)
    except TypeError:
        raise TypeError(f"jit: {what} must be an int or a sequence of ints, got "
                        f"{value!r}") from None


def _argnames(value):
    if value is None:
        return ()
    seq = (value,) if isinstance(value, str) else tuple(value)
    for v in seq:
        if not isinstance(v, str):
            raise TypeError(f"jit: static_argnames must be a str or a sequence of str, got "
                            f"{value!r}")
    return seq


def _representative(x):
    """A plain value like one example of traced ``x`` (its shape and dtype): the value
    itself under derivative traces, the first example of a batch, a program's own
    representative under an outer ``jit``."""
    if not isinstance(x, Tracer):
        return x
    trace = x._trace
    if isinstance(trace, ProgramTrace):
        return trace.values[x._node]
    v = _representative(x._value)
    if isinstance(x, BatchTracer):
        b = _backend.of(v)
        if v.shape[x._bdim] == 0:
            return b.zeros(tuple(x.shape), dtype=x.dtype)
        return b.getitem(v, (slice(None),) * x._bdim + (0, Ellipsis))
    return v


class _Entry:
    """One cached signature: the recorded and the optimised program, its compiled form
    (made on first plain use; ``run`` is its function) and the output's pytree
    structure."""

    __slots__ = ("recorded", "program", "out_tree", "_exe", "reuse", "run")

    def __init__(self, recorded, program, out_tree, reuse):
        self.recorded = recorded
        self.program = program
        self.out_tree = out_tree
        self.reuse = reuse
        self._exe = None
        self.run = None

    def compile(self):
        if self._exe is None:
            self._exe = Executable(self.program, reuse_buffers=self.reuse)
            self.run = self._exe.run
        return self._exe

    executable = property(compile)


class Jitted:
    """A function compiled per signature by :func:`jit` (callable like the function).

    Methods: :meth:`cache_info`, :meth:`cache_clear`, :meth:`program` (the optimised
    program for some arguments), :meth:`compiled` (its compiled form, with the generated
    ``source``). ``ea.make_graph`` and ``ea.explain`` accept a jitted function and show its
    optimised program and the plans of its einsum nodes.
    """

    __einsum_ad_jit__ = True  # make_graph and explain show its program

    def __init__(self, fun, static_argnums=(), static_argnames=(), *, fuse=True,
                 simplify=True, reuse_buffers=True, cache_size=64):
        if not callable(fun):
            raise TypeError(f"jit: fun must be callable, got {type(fun).__name__}")
        cache_size = operator.index(cache_size)
        if cache_size < 1:
            raise ValueError(f"jit: cache_size must be at least 1, got {cache_size}")
        nums = set(_argnums(static_argnums, "static_argnums"))
        names = set(_argnames(static_argnames))
        try:
            params = list(inspect.signature(fun).parameters.values())
        except (TypeError, ValueError):
            params = []
        positional = [p.name for p in params
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        # as JAX: a static position and its parameter's name mean the same argument
        for i in list(nums):
            if 0 <= i < len(positional) and params[i].kind == params[i].POSITIONAL_OR_KEYWORD:
                names.add(positional[i])
        for name in list(names):
            if name in positional:
                nums.add(positional.index(name))
        self.fun = fun
        self.static_argnums = tuple(sorted(nums))
        self.static_argnames = tuple(sorted(names))
        self.fuse = bool(fuse)
        self.simplify = bool(simplify)
        self.reuse_buffers = bool(reuse_buffers)
        self.cache_size = cache_size
        self._cache: OrderedDict = OrderedDict()
        self._flat = not self.static_argnums and not self.static_argnames
        self._lock = threading.Lock()
        self._hits = self._misses = 0
        functools.update_wrapper(self, fun)

    def __repr__(self):
        return f"jit({getattr(self.fun, '__name__', self.fun)!r})"

    # ---------------------------------------------------------------- signatures

    def _split(self, args, kwargs):
        """(key, program inputs, leaves, tree, static positions/values, traced?)."""
        n = len(args)
        static = sorted({i % n for i in self.static_argnums if -n <= i < n}) if n else []
        if static or self.static_argnames:
            static_pos = tuple((i, args[i]) for i in static)
            dyn = tuple(a for i, a in enumerate(args) if i not in static)
            skw = tuple(sorted((k, v) for k, v in kwargs.items()
                               if k in self.static_argnames))
            dkw = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        else:
            static_pos, dyn, skw, dkw = (), args, (), kwargs
        leaves, tree = tree_flatten((dyn, dkw) if dkw else dyn)
        spec, inputs, traced = [], [], False
        for k, x in enumerate(leaves):
            b = _BY_TYPE.get(x.__class__)
            if b is not None:
                spec.append((x.__class__, x.shape, x.dtype, getattr(x, "device", None)))
                inputs.append(k)
            elif isinstance(x, Tracer):
                traced = True
                v = unwrap(x)
                vb = _backend.of(v)
                spec.append(("traced", vb, tuple(x.shape), x.dtype, vb.device(v)))
                inputs.append(k)
            elif x.__class__ in _PYSCALARS:
                spec.append(("static", x.__class__, x))  # a compile-time constant
            elif _backend.of(x) is not None:  # an array of a backend met for the first time
                spec.append((x.__class__, tuple(x.shape), x.dtype, getattr(x, "device", None)))
                inputs.append(k)
            else:
                raise TypeError(
                    f"jit: argument leaf {k} is a {type(x).__name__}, not an array or a "
                    "number; a jitted function's arguments are arrays (or pytrees of "
                    "them): mark other arguments static (jit(f, static_argnums=...) or "
                    "static_argnames=...)")
        if not static_pos and not skw and not dkw and len(inputs) == len(args) \
                and len(leaves) == len(args) and not traced and all(
                    s[0] is x.__class__ for s, x in zip(spec, args)):
            key = tuple(spec)  # positional arrays: the hot path's key
        else:
            key = (tree, tuple(spec), static_pos, skw, bool(dkw))
        try:
            hash(key)
        except TypeError:
            bad = [f"argument {i} ({type(v).__name__})" for i, v in static_pos
                   if not _hashable(v)] + [f"argument {k!r} ({type(v).__name__})"
                                           for k, v in skw if not _hashable(v)]
            raise TypeError(f"jit: static {', '.join(bad)} is not hashable: static "
                            "arguments key the cache of compiled programs (use a tuple "
                            "instead of a list, or pass arrays as dynamic arguments)") \
                from None
        return key, inputs, leaves, tree, static_pos, skw, bool(dkw), traced

    # -------------------------------------------------------------------- calling

    def __call__(self, *args, **kwargs):
        if not kwargs and self._flat:
            # the hot path: positional array arguments only, a signature met before
            key = []
            for x in args:
                if _BY_TYPE.get(x.__class__) is None:
                    break
                key.append((x.__class__, x.shape, x.dtype, getattr(x, "device", None)))
            else:
                key = tuple(key)
                entry = self._cache.get(key)
                if entry is not None and entry.run is not None:
                    self._hits += 1
                    try:
                        self._cache.move_to_end(key)  # the most recently used
                    except KeyError:  # dropped by another thread meanwhile
                        pass
                    return entry.run(*args)
        key, positions, leaves, tree, static_pos, skw, has_kw, traced = \
            self._split(args, kwargs)
        entry = self._lookup(key)
        inputs = [leaves[k] for k in positions]
        if entry is None:
            entry, first = self._compile(key, positions, leaves, tree, static_pos, skw, has_kw,
                                         keep=not traced)
            if not traced:
                entry.compile()  # now: the first call includes compiling
                return first  # what tracing computed: the eager values themselves
        if traced:
            return tree_unflatten(entry.out_tree, bind(entry.program, inputs))
        return entry.executable.run(*inputs)

    def _lookup(self, key):
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                self._misses += 1
            else:
                self._cache.move_to_end(key)
                self._hits += 1
            return entry

    def _compile(self, key, positions, leaves, tree, static_pos, skw, has_kw, keep=False):
        """Trace, optimise and cache the program of this signature. With ``keep``, also
        the outputs the trace computed (the call's own eager values, handed out fresh
        and unaliased like the compiled program's): a first call runs its arrays once."""
        values = [_representative(leaves[k]) for k in positions]
        bk = _backend.common(values, "jit", "argument") if values else _backend.default()
        trace = ProgramTrace()
        tracers = [trace.new_input(v) for v in values]
        new_leaves = list(leaves)
        for k, t in zip(positions, tracers):
            new_leaves[k] = t
        dyn = tree_unflatten(tree, new_leaves)
        dyn_args, dyn_kw = dyn if has_kw else (dyn, {})
        args = list(dyn_args)
        for i, v in static_pos:
            args.insert(i, v)
        try:
            with bk.quiet():  # the program run below warns, as the eager call would
                result = self.fun(*args, **dyn_kw, **dict(skw))
        finally:
            trace.done = True  # its tracers must not be used once fun has returned
        out_leaves, out_tree = tree_flatten(result)
        outputs = []
        for k, o in enumerate(out_leaves):
            if isinstance(o, Tracer):
                if o._trace is not trace:
                    raise TypeError(
                        f"jit: output leaf {k} of the jitted function is a value traced by "
                        "another transform (a closure over it, or a value escaped from an "
                        "inner transform); return values computed from the arguments")
                outputs.append(o._node)
            elif _backend.of(o) is not None:
                outputs.append(Const(o))
            else:
                outputs.append(Literal(o))
        recorded = Program([t._node for t in tracers], trace.eqns, outputs, bk,
                           out_tree=out_tree, device=bk.device(values[0]) if values else None)
        first = _first_outputs(recorded, trace.values, values, out_tree) if keep else None
        trace.values.clear()  # the representatives were for shapes and dtypes only
        entry = _Entry(recorded, optimize(recorded, fuse=self.fuse, simplify=self.simplify),
                       out_tree, self.reuse_buffers)
        with self._lock:
            self._cache[key] = entry
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return entry, first

    # ---------------------------------------------------------------- inspection

    def _entry(self, args, kwargs):
        key, positions, leaves, tree, static_pos, skw, has_kw, _ = self._split(args, kwargs)
        entry = self._lookup(key)
        if entry is None:
            entry = self._compile(key, positions, leaves, tree, static_pos, skw, has_kw)[0]
        return entry

    def program(self, *args, **kwargs) -> Program:
        """The optimised program for these arguments (traced and cached if new); its
        ``stats`` say what each optimisation did, ``graph()`` lists it."""
        return self._entry(args, kwargs).program

    def recorded(self, *args, **kwargs) -> Program:
        """The program as recorded, before optimisation."""
        return self._entry(args, kwargs).recorded

    def compiled(self, *args, **kwargs) -> Executable:
        """The compiled form for these arguments (``.source`` is the generated code)."""
        return self._entry(args, kwargs).executable

    def cache_info(self) -> dict:
        """Hits, misses, the number of cached programs (``size``) and the bound."""
        with self._lock:
            return {"hits": self._hits, "misses": self._misses, "size": len(self._cache),
                    "maxsize": self.cache_size}

    def cache_clear(self) -> None:
        """Forget every compiled program of this function and reset the counters."""
        with self._lock:
            self._cache.clear()
            self._hits = self._misses = 0


def _first_outputs(program, values, inputs, out_tree):
    """The outputs of ``program`` from the values its trace computed, as the compiled
    program hands them out: new arrays (a copy where one shares memory with an input, a
    constant or an earlier output, or is read-only), 0-d ones as their library's."""
    seen = owners(inputs)
    outs = []
    for o in program.outputs:
        if isinstance(o, Literal):
            outs.append(o.value)
            continue
        v = o.value if isinstance(o, Const) else values[o]
        b = _backend.of(v)
        if isinstance(o, Const) and b is not None and b.owner(v) is not None:
            v = b.copy(v)
        v = user_array(v, seen)
        outs.append(b.finish(v) if b is not None and len(v.shape) == 0 else v)
    return tree_unflatten(out_tree, outs)


def _hashable(v) -> bool:
    try:
        hash(v)
    except TypeError:
        return False
    return True


def jit(fun=None, static_argnums=(), static_argnames=(), *, fuse=True, simplify=True,
        reuse_buffers=True, cache_size=64):
    """Compile ``fun``: trace it once per signature into a program, optimise it, and replay
    the compiled program on later calls.

    JAX's signature. The signature of a call is the arrays' shapes, dtypes, backend and
    device, the pytree structure of the arguments and the static arguments' values; Python
    numbers among the arguments are compile-time constants (as static arguments are). A
    new signature traces and compiles again; programs are cached per function (at most
    ``cache_size``, least recently used dropped: see :meth:`Jitted.cache_info`,
    :meth:`Jitted.cache_clear`).

    The compiled program has no tracer and no per-primitive bookkeeping: einsum nodes are
    their cached plans' kernels, the other primitives their implementations. It is
    optimised first: an einsum whose only consumer is another einsum is fused into it
    and the merged node planned as a whole (``fuse``); duplicate subexpressions are
    merged, dead code removed, constants folded (``simplify``); intermediates are written
    into buffers the program reuses from call to call (``reuse_buffers``, where the
    backend can write into a given array); arrays handed to the caller are always new and
    unaliased.

    Composes with the other transforms: ``jit(grad(f))``, ``jit(value_and_grad(f))`` and
    ``jit(vmap(f))`` compile the derivative or batched program; ``grad(jit(f))``,
    ``vmap(jit(f))`` and ``jit`` inside ``jit`` apply the optimised program through its
    primitives, so ``grad`` differentiates the fused program: ``jit(grad(jit(f)))``
    compiles the derivative of ``f``'s chains fused and planned as wholes (where
    ``jit(grad(f))`` fuses only what the derivative program leaves fusable). A
    closed-over array is a constant of the program.

    Args:
        fun: a function of arrays (and pytrees of arrays); usable as a decorator, with or
            without arguments.
        static_argnums: positions of arguments that are not traced but part of the
            signature (hashable values: sizes, flags, strings, functions).
        static_argnames: names of such keyword arguments (a position and its parameter's
            name mean the same argument).
        fuse: fuse chains of einsum nodes.
        simplify: merge duplicates, remove dead code and identities, fold constants.
        reuse_buffers: write intermediates into memory the program owns.
        cache_size: programs kept per function.

    Returns:
        A :class:`Jitted` function.

    Raises:
        TypeError: inside the traced function, Python control flow (``if``, ``while``)
            or a conversion (``float``, ``numpy.asarray``) on a traced value: mark the
            argument static or select with ``ea.where``.

    Examples:
        >>> import numpy as np, einsum_ad as ea
        >>> step = ea.jit(ea.value_and_grad(lambda w, x: ea.sum(ea.tanh(x @ w) ** 2)))
        >>> loss, g = step(np.ones((3, 2)), np.eye(3))
        >>> round(float(loss), 6), g.shape
        (3.480154, (3, 2))
        >>> f = ea.jit(lambda x, n: x ** n, static_argnums=1)
        >>> f(np.arange(3.0), 2)
        array([0., 1., 4.])
        >>> f.cache_info()
        {'hits': 0, 'misses': 1, 'size': 1, 'maxsize': 64}
    """
    options = {"fuse": fuse, "simplify": simplify, "reuse_buffers": reuse_buffers,
               "cache_size": cache_size}
    if fun is None:
        return lambda f: Jitted(f, static_argnums, static_argnames, **options)
    return Jitted(fun, static_argnums, static_argnames, **options)
