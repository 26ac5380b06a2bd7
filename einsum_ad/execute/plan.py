"""Contraction plans, made once per spec, shapes, dtypes, optimizer and backend, and running them.

This is the execution layer: forward only, it never calls back into a rule. A :class:`Plan`
is built once per (canonical spec, shapes, dtypes, optimizer, backend) from opt_einsum's
path, and holds everything derivable per step: the step's canonical Spec, its lowering
onto BLAS (``lowering.py``: permutations, reshapes, operand order, the backend's functions),
and the adjoint of each of its operands with that adjoint's own lowering. The forward pass
runs the steps; the einsum rule's backward walks them in reverse and reuses the forward
intermediates, so no per-call work but the array operations remains.
"""

from __future__ import annotations

import hashlib
import operator
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import opt_einsum

from .. import backend as _backend
from ..spec import Spec, adjoint, label_sizes
from .lowering import Spread, lower

_BY_TYPE = _backend._BY_TYPE  # type -> backend (the hot path reads it directly)

__all__ = ["Plan", "Step", "StepAdjoint", "Sliced", "plan", "run", "contract",
           "plan_cache_info", "clear_plan_cache", "set_plan_cache_size", "spread_lowering",
           "optimize_key", "OPTIMIZER_NAMES", "path_steps"]


@dataclass(frozen=True)
class StepAdjoint:
    """Operand ``k`` of a step: its cotangent is ``run(g, *others)`` then ``spread``.

    ``others`` are the positions (within the step) of the operands the contraction reads;
    ``spread`` (or None) writes the result into the operand's layout of ``shape``
    (see :func:`subscripts.adjoint`).
    """

    contraction: Spec
    others: tuple[int, ...]
    spread: Spec | None
    shape: tuple
    run: object = field(compare=False, repr=False)
    spread_run: object = field(default=None, compare=False, repr=False)

    @property
    def identity(self) -> bool:
        """The contraction is ``g`` itself (``"ab->ab"``): nothing to compute or record."""
        c = self.contraction
        return not self.others and c.inputs[0] == c.output


@dataclass(frozen=True)
class Step:
    """One contraction step: take the operands at ``positions`` (ascending) off the list,
    contract them with ``spec`` and append the result.

    ``args`` names what is popped (operand i < n, or n + j for step j's result), ``shapes``
    their shapes and ``shape`` the result's; ``run`` is the step's lowering and
    ``adjoints`` the adjoint of each of its operands.
    """

    positions: tuple[int, ...]
    spec: Spec
    args: tuple[int, ...]
    shapes: tuple = ()
    shape: tuple = ()
    run: object = field(default=None, compare=False, repr=False)
    adjoints: tuple = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Plan:
    """A contraction order for one (spec, shapes): the steps, in evaluation order."""

    spec: Spec
    shapes: tuple
    steps: tuple[Step, ...]
    backend: object = field(default=None, compare=False, repr=False)
    memo: dict = field(default_factory=dict, compare=False, repr=False)


# ------------------------------------------------------------------------ plan cache


class _PlanCache:
    """A bounded, thread-safe LRU cache of plans with hit/miss counts."""

    def __init__(self, maxsize: int = 1024):
        self.maxsize = maxsize
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key):
        # no lock on a hit: each OrderedDict operation is atomic under the GIL, and a key
        # another thread evicted in between is simply not moved (plan() inlines this)
        data = self._data
        item = data.get(key)
        if item is None:
            with self._lock:
                self.misses += 1
            return None
        try:
            data.move_to_end(key)
        except KeyError:
            pass
        self.hits += 1
        return item

    def put(self, key, value):
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def info(self) -> dict:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "size": len(self._data),
                    "maxsize": self.maxsize}

    def clear(self):
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


_CACHE = _PlanCache()


def plan_cache_info() -> dict:
    """Hits, misses, current size and bound of the contraction-plan cache."""
    return _CACHE.info()


def clear_plan_cache() -> None:
    """Forget every cached plan and reset the counters."""
    _CACHE.clear()


def set_plan_cache_size(maxsize: int) -> None:
    """Bound the plan cache to ``maxsize`` plans (least recently used ones are dropped)."""
    if int(maxsize) < 1:
        raise ValueError(f"plan cache size must be at least 1, got {maxsize}")
    with _CACHE._lock:
        _CACHE.maxsize = int(maxsize)
        while len(_CACHE._data) > _CACHE.maxsize:
            _CACHE._data.popitem(last=False)


# ------------------------------------------------------------------------- planning


# the optimizer names opt_einsum knows, in a stable order for messages
OPTIMIZER_NAMES = tuple(sorted(getattr(opt_einsum.paths, "_PATH_OPTIONS", {}) or (
    "auto", "auto-hq", "branch-1", "branch-2", "branch-all", "dp", "dynamic-programming",
    "eager", "greedy", "opportunistic", "optimal", "random-greedy", "random-greedy-128")))
_NAMES = frozenset(OPTIMIZER_NAMES)


class _ByIdentity:
    """A plan-cache key part for an optimizer object: equal only to itself, hashed by
    identity, and holding the object (so that its id is never reused while cached)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return isinstance(other, _ByIdentity) and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)

    def __repr__(self):
        return f"<optimizer {type(self.obj).__name__} at {id(self.obj):#x}>"


class _Reusable(_ByIdentity):
    """The key of a cotengra ``ReusableHyperOptimizer``: by its own hash, not its identity.

    cotengra files a contraction under the hash of the contraction (inputs, output, sizes,
    which the plan key already holds as spec and shapes) made with the optimizer's
    path-relevant options; two such optimizers with equal options and the same cache
    directory give the same answers, so they share plans: a reusable optimizer made afresh
    for every call (``optimize=ReusableHyperOptimizer(directory=...)``) hits the plan cache.
    """

    __slots__ = ("token",)

    def __init__(self, obj, token):
        self.obj = obj
        self.token = token

    def __eq__(self, other):
        return isinstance(other, _Reusable) and other.token == self.token

    def __hash__(self):
        return hash(self.token)

    def __repr__(self):
        return f"<ReusableHyperOptimizer {self.token[1][:12]}>"


# a reusable optimizer's token, computed once per object (its options are fixed at birth)
_TOKENS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _reusable_token(obj):
    try:
        return _TOKENS[obj]
    except (KeyError, TypeError):
        pass
    opts = obj.auto_hash_path_relevant_opts()
    where = getattr(getattr(obj, "_cache", None), "_path", None)
    token = (type(obj).__name__, opts, str(where), getattr(obj, "_hash_method", None))
    token = token[:1] + (hashlib.sha1(repr(token).encode()).hexdigest(),)
    try:
        _TOKENS[obj] = token
    except TypeError:  # not weak-referenceable: hashed again next time
        pass
    return token


@dataclass(frozen=True)
class Sliced:
    """The plan-cache key of a contraction that may be sliced (``execute.slicing``).

    ``base`` is the optimizer's key (as :func:`optimize_key` makes it), ``limit`` the
    validated ``memory_limit`` (None, a number of elements, ``("bytes", n)`` or
    ``"max_input"``; see ``slicing.limit_key``). A cotengra optimizer or tree is always
    wrapped in one, so that a slicing it found is kept.
    """

    base: object
    limit: object = None

    def __repr__(self):
        return f"Sliced({self.base!r}, memory_limit={self.limit!r})"


def optimize_key(optimize):
    """The one validation of einsum's ``optimize=``, and its plan-cache key.

    Accepted: an opt_einsum optimizer name (one of :data:`OPTIMIZER_NAMES`), ``True``
    (``"auto"``), ``False`` or None (one n-ary step, as numpy's default), an explicit path
    (a list of tuples of positions, optionally led by ``"einsum_path"`` as numpy's
    ``einsum_path`` returns it), any ``opt_einsum.paths.PathOptimizer`` instance
    (``opt_einsum.RandomGreedy(...)``), or cotengra's ``HyperOptimizer``,
    ``ReusableHyperOptimizer`` or ``ContractionTree``. Keys: the name, ``False``,
    ``("path", ((0, 1), ...))``, or the optimizer object itself by identity: a plan is made
    once per (spec, shapes, dtypes, optimizer, backend), so an optimizer instance is asked
    once per contraction signature and its answer reused. A cotengra object's key is a
    :class:`Sliced` one (its slicing, when it found one, is kept); a
    ``ReusableHyperOptimizer`` is keyed by its own hash rather than its identity.

    Raises:
        ValueError: an unknown name (the valid ones are listed, sorted) or a malformed path.
        TypeError: anything else.
    """
    if optimize.__class__ is str:
        if optimize in _NAMES:
            return optimize
        raise ValueError(f"einsum: unknown optimize={optimize!r}; use one of "
                         f"{', '.join(OPTIMIZER_NAMES)}, True, False, an explicit path or an "
                         "opt_einsum PathOptimizer")
    if optimize is True:
        return "auto"
    if optimize is False or optimize is None:
        return False
    if optimize.__class__ in (_ByIdentity, _Reusable, Sliced) or (
            optimize.__class__ is tuple and optimize and optimize[0] == "path"):
        return optimize  # a key already
    if isinstance(optimize, (list, tuple)):
        path = list(optimize)
        if path and path[0] == "einsum_path":  # numpy's einsum_path format
            path = path[1:]
        try:
            return ("path", tuple(tuple(operator.index(i) for i in p) for p in path))
        except TypeError:
            raise ValueError(f"einsum: an explicit path is a list of tuples of operand "
                             f"positions, got {optimize!r}") from None
    if is_cotengra(optimize):
        if hasattr(optimize, "auto_hash_path_relevant_opts"):
            return Sliced(_Reusable(optimize, _reusable_token(optimize)))
        return Sliced(_ByIdentity(optimize))
    if isinstance(optimize, opt_einsum.paths.PathOptimizer):
        return _ByIdentity(optimize)
    raise TypeError(
        f"einsum: optimize must be an optimizer name, True/False, an explicit path or an "
        f"opt_einsum PathOptimizer, got {type(optimize).__name__} {optimize!r}"
    )


def _is_contraction_tree(obj) -> bool:
    """A cotengra ContractionTree (recognised without importing cotengra)."""
    return type(obj).__name__ == "ContractionTree" and hasattr(obj, "get_path")


def is_cotengra(obj) -> bool:
    """A cotengra ``ContractionTree`` or an optimizer with ``search`` (``HyperOptimizer``,
    ``ReusableHyperOptimizer``): one whose trees may carry a slicing. Recognised without
    importing cotengra."""
    top = (type(obj).__module__ or "").split(".")[0]
    return top == "cotengra" and (_is_contraction_tree(obj) or hasattr(obj, "search"))


def _check_path(path, n):
    count = n
    for p in path:
        if not p or len(set(p)) != len(p) or any(i < 0 or i >= count for i in p):
            raise ValueError(
                f"einsum: invalid contraction path step {p} for {count} operand(s) in hand"
            )
        count -= len(p) - 1
    if count != 1:
        raise ValueError(f"einsum: the contraction path leaves {count} operands, not 1")


def plan(spec: Spec, shapes, dtypes=(), optimize="auto", bk=None) -> Plan:
    """The cached contraction plan for ``spec`` on operands of ``shapes`` and ``dtypes``
    (when known: operands of other dtypes are then cast once per step) on backend ``bk``
    (default NumPy)."""
    opt = optimize if optimize.__class__ is str else optimize_key(optimize)
    shapes = tuple(shapes)
    for s in shapes:
        if s.__class__ is not tuple:  # lists, torch.Size, ...: plain tuples in the key
            shapes = tuple(map(tuple, shapes))
            break
    if bk is None:
        bk = _backend.default()
    key = (spec, shapes, tuple(dtypes), opt, bk)
    # _PlanCache.get's hit path, inlined: it runs on every call
    cache = _CACHE
    data = cache._data
    found = data.get(key)
    if found is not None:
        try:
            data.move_to_end(key)
        except KeyError:
            pass
        cache.hits += 1
        return found
    with cache._lock:
        cache.misses += 1
    result = _build_plan(spec, shapes, opt, bk, tuple(dtypes))
    _CACHE.put(key, result)
    return result


def choose_path(spec: Spec, shapes, opt, bk) -> list:
    """The contraction path (lists of operand positions) that optimizer key ``opt`` gives
    for ``spec`` on ``shapes`` (a cotengra tree's path without its slicing)."""
    n = len(spec.inputs)
    if n == 1:
        return [(0,)]
    if opt is False and bk.einsum is None:  # no n-ary einsum: pairwise, left to right
        return [(0, 1)] * (n - 1)
    if opt is False:
        return [tuple(range(n))]
    if isinstance(opt, tuple):
        path = [tuple(p) for p in opt[1]]
        _check_path(path, n)
        return path
    if isinstance(opt, _ByIdentity) and _is_contraction_tree(opt.obj):
        path = [tuple(p) for p in opt.obj.get_path()]
        _check_path(path, n)
        return path
    if opt.__class__ is str and opt not in _NAMES:
        optimize_key(opt)  # raises, naming the valid names
    if opt.__class__ is Sliced:
        raise TypeError("einsum: a sliced contraction's plan is made by "
                        "einsum_ad.execute.slicing.sliced_plan, not plan()")
    how = opt.obj if isinstance(opt, _ByIdentity) else opt
    path, _ = opt_einsum.contract_path(str(spec), *shapes, shapes=True, optimize=how)
    return [tuple(p) for p in path]


def path_steps(spec: Spec, path):
    """Each step of ``path`` as (sorted positions, input subscripts, output subscripts,
    ids of what it reads): operand i < n, step j's result n + j. The last step's output
    is the spec's; an intermediate keeps the labels still needed."""
    n = len(spec.inputs)
    subs = list(spec.inputs)
    ids = list(range(n))
    out_steps = []
    for i, positions in enumerate(path):
        positions = tuple(sorted(positions))
        ins = tuple(subs[p] for p in positions)
        args = tuple(ids[p] for p in positions)
        for p in reversed(positions):
            del subs[p], ids[p]
        ids.append(n + i)
        if i == len(path) - 1:
            out = spec.output
        else:
            keep = set(spec.output).union(*subs)
            out = "".join(lab for lab in dict.fromkeys("".join(ins)) if lab in keep)
        subs.append(out)
        out_steps.append((positions, ins, out, args))
    return out_steps


def _build_plan(spec: Spec, shapes, opt, bk, dtypes) -> Plan:
    n = len(spec.inputs)
    path = choose_path(spec, shapes, opt, bk)
    sizes = label_sizes(spec, shapes)
    # the dtype of every value (operand i, then step j's result n + j), when known
    vdt = list(dtypes) if len(dtypes) == n else None
    steps = []
    for positions, ins, out, args in path_steps(spec, path):
        step_dts = () if vdt is None else tuple(vdt[a] for a in args)
        steps.append(_make_step(positions, Spec(ins, out), args, sizes, bk, step_dts))
        if vdt is not None:
            vdt.append(step_dts[0] if len(set(step_dts)) == 1 else bk.result_type(*step_dts))
    return Plan(spec, shapes, tuple(steps), bk)


def _make_step(positions, spec: Spec, args, sizes, bk, dtypes=()) -> Step:
    shapes = tuple(tuple(sizes[lab] for lab in sub) for sub in spec.inputs)
    shape = tuple(sizes[lab] for lab in spec.output)
    # first: a step the lowering refuses is reported with its own label count
    run = lower(spec, shapes, bk, dtypes)
    out_dt = None
    if dtypes:
        out_dt = dtypes[0] if len(set(dtypes)) == 1 else bk.result_type(*dtypes)
    adjoints = []
    for k in range(len(spec.inputs)):
        adj = adjoint(spec, k)
        cshapes = (shape,) + tuple(shapes[m] for m in adj.others)
        cdts = (out_dt,) + tuple(dtypes[m] for m in adj.others) if dtypes else ()
        adjoints.append(StepAdjoint(
            adj.contraction, adj.others, adj.spread, shapes[k],
            lower(adj.contraction, cshapes, bk, cdts),
            None if adj.spread is None else spread_lowering(adj.spread, shapes[k], bk)))
    return Step(positions, spec, args, shapes, shape, run, tuple(adjoints))


@lru_cache(maxsize=4096)
def spread_lowering(spread: Spec, shape: tuple, bk=None) -> Spread:
    """The lowered spread (broadcast / diagonal write) of ``spread`` into ``shape``."""
    return Spread(spread, shape, _backend.default() if bk is None else bk)


# ------------------------------------------------------------------------ executing


def run(p: Plan, operands, step_fn=None, keep=None):
    """Evaluate plan ``p``, each step with its lowering (or ``step_fn(step, *arrays)``).

    Returns the result and the list of step results; with ``keep`` (a set of step
    indices) only those are kept, the others are None, so that the backward pass holds
    no more intermediates than it reads. Each value is read by exactly one step, and is
    let go as soon as that step has run.
    """
    n = len(operands)
    vals = list(operands) + [None] * len(p.steps)
    results = []
    for j, step in enumerate(p.steps):
        args = [vals[i] for i in step.args]
        for i in step.args:
            vals[i] = None
        out = step.run(*args) if step_fn is None else step_fn(step, *args)
        vals[n + j] = out
        results.append(out if keep is None or j in keep else None)
    return vals[-1], results


def contract(spec: Spec, *arrays, optimize="auto"):
    """Evaluate ``spec`` on plain arrays (of one backend) through its cached plan."""
    bk = None
    if arrays:
        a0 = arrays[0]
        bk = _BY_TYPE.get(a0.__class__) or _backend.of(a0)
    p = plan(spec, [a.shape for a in arrays], [a.dtype for a in arrays], optimize, bk)
    steps = p.steps
    if len(steps) == 1:
        return steps[0].run(*arrays)
    return run(p, arrays, keep=())[0]  # each step result let go once read, not held to the end
