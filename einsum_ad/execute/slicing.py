"""Sliced contractions: split a contraction over a few labels so that every slice fits a bound.

``einsum(..., memory_limit=N)`` has opt_einsum's meaning: no intermediate of more than N
elements. The path alone may not reach it (the best order of a tensor network can need an
intermediate far larger than any operand); fixing a chunk of a few labels does. A label
``l`` of size ``d`` cut into chunks of width ``w`` (a divisor of ``d``; cotengra cuts whole
indices, ``w = 1``) splits the contraction into ``d / w`` slices: each slice is the same
contraction on the operands' chunks, with ``l`` of size ``w``, and

* when ``l`` is summed, the result is the sum of the slices' results;
* when ``l`` is in the output, each slice's result is the output's chunk along ``l``.

Both are one operation: add each slice's result into its region of the output (the whole
output for summed labels). An operand that repeats a sliced label (``"iij"``) gives its
diagonal block, and a label only one operand has is cut like any other. Broadcast axes need
nothing: the canonical spec gives a size-1 axis a label of its own, never sliced.

A :class:`SlicedPlan` holds the unsliced order's path and one :class:`Slicing` per
direction, priced by a :class:`Cost` model of one slice (no arrays touched). The forward's
makes every intermediate of a slice fit N. A slice holds more than one intermediate at a
time: its forward the inputs and result of a step and the results waiting for their step;
its backward (``rules/einsum.py`` recomputes each slice and accumulates each operand's
cotangent region by region) the intermediates its adjoints read, which along a long chain
of steps add up to many times N. Each direction's slicing is cut finer until that working
set fits ``WORKING_FACTOR`` times N, when a finer slicing that does costs at most
``REFINE_FLOPS`` times the FLOPs (else the closest one that does, and ``explain`` says what
a slice holds): a tree-shaped order (a random graph's) gets there for about 1% more FLOPs;
a boundary sweep of a 2-D lattice does not, whatever the slicing.

The labels are chosen by a slice finder: cotengra's (``ContractionTree.slice``) when
cotengra is installed, its whole-index cuts then widened to the coarsest chunks that still
fit; else a greedy one of ours that cuts, one halving (to the next divisor) at a time, the
label whose cut costs the fewest extra FLOPs per unit of excess removed. A slicing needs at
most :data:`MAX_SLICES` slices; a limit that no slicing within that reaches raises
ValueError naming the smallest limit the finder reaches. The finder keeps the path: slicing
a boundary sweep is costly, and an order chosen with slicing in mind (cotengra's
``HyperOptimizer(slicing_reconf_opts=...)``, passed as ``optimize=``, whose slicing is
kept) does better there.

Forward only, as the rest of this package: the backward program lives in the einsum rule.
``map_slices`` runs a function per slice on any ``concurrent.futures``-style executor
(``submit``/``result``; a ``distributed.Client`` shares the operands every slice reads once,
with ``scatter``), a bounded number of slices in flight, results in slice order.
"""

from __future__ import annotations

import itertools
import math
import numbers
import re
import threading
from collections import deque
from dataclasses import dataclass, field

import opt_einsum
from opt_einsum.helpers import flop_count

from .. import backend as _backend
from ..spec import Spec, label_sizes
from .plan import (
    _CACHE,
    _NAMES,
    Plan,
    Sliced,
    _ByIdentity,
    _check_path,
    _is_contraction_tree,
    choose_path,
    optimize_key,
    path_steps,
    plan,
    run,
)

__all__ = ["SlicedPlan", "Slicing", "sliced_plan", "sliced_key", "limit_key", "contract_sliced",
           "contract_slice", "map_slices", "Accumulator", "MAX_SLICES", "WORKING_FACTOR",
           "REFINE_FLOPS", "Cost", "output_shape", "backward_slicing", "Mapper"]

# The most slices a slicing may have: past this, the per-slice work of Python dominates and
# the limit is reported as too small.
MAX_SLICES = 1 << 20

# What one slice's forward, and its backward, hold at once is brought within this many
# times the limit (a step at the limit holds its two inputs and its result) when a finer
# slicing that does costs at most REFINE_FLOPS times the FLOPs.
WORKING_FACTOR = 4
REFINE_FLOPS = 1.5

_UNITS = {"b": 1, "kb": 10 ** 3, "kib": 1 << 10, "mb": 10 ** 6, "mib": 1 << 20,
          "gb": 10 ** 9, "gib": 1 << 30, "tb": 10 ** 12, "tib": 1 << 40}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]+)\s*$")


# ------------------------------------------------------------------------ the limit


def limit_key(memory_limit):
    """The one validation of ``memory_limit=``: None, a number of elements (an int >= 0),
    ``"max_input"`` (opt_einsum's: the largest operand's size) or a size in bytes of the
    result's dtype (``"2GiB"``, ``"512 MB"``, ``"1.5e9B"``; units B, kB, KiB, MB, MiB, GB,
    GiB, TB, TiB, any case). Returns the plan-cache form: None, an int, ``"max_input"`` or
    ``("bytes", n)``.

    >>> limit_key("2GiB"), limit_key(1000), limit_key(None)
    (('bytes', 2147483648), 1000, None)
    """
    if memory_limit is None:
        return None
    if isinstance(memory_limit, bool) or not isinstance(memory_limit, (numbers.Integral, str)):
        raise TypeError(f"einsum: memory_limit must be a number of elements (an int), "
                        f"'max_input' or a size in bytes such as '2GiB', got "
                        f"{type(memory_limit).__name__} {memory_limit!r}")
    if isinstance(memory_limit, str):
        if memory_limit == "max_input":
            return memory_limit
        m = _SIZE.match(memory_limit)
        unit = None if m is None else _UNITS.get(m.group(2).lower())
        if unit is None:
            raise ValueError(f"einsum: memory_limit={memory_limit!r} is no size: give a "
                             "number of elements (an int), 'max_input', or bytes with a unit "
                             "(B, kB, KiB, MB, MiB, GB, GiB, TB, TiB), e.g. '2GiB'")
        return ("bytes", int(float(m.group(1)) * unit))
    if memory_limit < 0:
        raise ValueError(f"einsum: memory_limit must be at least 0 elements, got "
                         f"{memory_limit}")
    return int(memory_limit)


def sliced_key(optimize, memory_limit):
    """The plan-cache key of a contraction made with ``optimize`` (an optimizer key or
    anything :func:`plan.optimize_key` accepts) under ``memory_limit`` (validated by
    :func:`limit_key`)."""
    base = optimize_key(optimize)
    limit = limit_key(memory_limit)
    if base.__class__ is Sliced:  # a cotengra object: its own slicing, and this limit
        return base if limit is None else Sliced(base.base, limit)
    return Sliced(base, limit)


def _elements(limit, shapes, dtype, bk) -> int | None:
    if limit is None or limit.__class__ is int:
        return limit
    if limit == "max_input":
        return max((math.prod(s) for s in shapes), default=1)
    item = bk.itemsize(dtype) if dtype is not None else 8
    return limit[1] // item


def _bytes(n) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


# ------------------------------------------------------------------------ cost model


@dataclass(frozen=True)
class Cost:
    """What one slicing costs, in elements of intermediates and in FLOPs (opt_einsum's
    count) of every slice together.

    ``peak`` is the largest intermediate of a slice (what ``memory_limit`` bounds),
    ``live`` the most intermediates a slice's forward holds at once (the inputs of a step
    and its result, and the results waiting for their step), ``held`` the most one
    slice's backward holds at once (the intermediates its adjoints read, all operands
    differentiated, and the cotangents of intermediates in flight). Operands, their
    chunks' cotangents and the output are not intermediates.
    """

    flops: int
    peak: int
    live: int
    held: int
    count: int


class _Model:
    """The steps of one path, for pricing slicings of it (no arrays, no lowering)."""

    def __init__(self, spec: Spec, path, sizes):
        self.spec = spec
        self.sizes = sizes
        self.steps = []
        n = len(spec.inputs)
        read = set()
        for _positions, ins, out, args in path_steps(spec, path):
            labels = "".join(dict.fromkeys("".join(ins)))
            inner = any(lab not in out for lab in labels)
            mids = tuple(a - n for a in args if a >= n)  # the step results it reads
            self.steps.append((labels, inner, len(ins), out, mids))
            if len(ins) > 1:  # each input is read by the other inputs' adjoints
                read.update(mids)
        self.read = tuple(sorted(read))  # the step results a backward keeps
        self.sliceable = tuple(lab for lab in spec.labels if sizes[lab] > 1)

    def results(self, widths):
        """(labels, elements) of each step's result under ``widths``."""
        sizes = dict(self.sizes)
        sizes.update(widths)
        return [(out, math.prod(sizes[lab] for lab in out)) for _, _, _, out, _ in self.steps]

    def cost(self, widths) -> Cost:
        sizes = dict(self.sizes)
        sizes.update(widths)
        count = math.prod(self.sizes[lab] // w for lab, w in widths.items())
        flops = sum(flop_count(labels, inner, nterms, sizes)
                    for labels, inner, nterms, _, _ in self.steps)
        res = [size for _, size in self.results(widths)]
        alive = live = 0
        for j, (*_, mids) in enumerate(self.steps):
            live = max(live, alive + res[j])
            alive += res[j] - sum(res[m] for m in mids)
        base = sum(res[j] for j in self.read)
        pending = held = 0
        last = len(res) - 1
        for j in range(last, -1, -1):
            new = sum(res[m] for m in self.steps[j][4])
            held = max(held, base + pending + new)
            pending += new - (res[j] if j < last else 0)
        return Cost(flops * count, max(res, default=0), live, held, count)


@dataclass(frozen=True)
class _Target:
    """What a slicing must fit: every intermediate ``limit`` elements; with ``live``, the
    forward's live set, with ``held``, what a slice's backward holds, at most
    ``WORKING_FACTOR`` times that; with ``flops``, no more FLOPs in all than that."""

    limit: int
    live: bool = False
    held: bool = False
    flops: float | None = None

    def excess(self, model, widths):
        """How far ``widths`` is from fitting (0: it fits), and the labels to cut: the sum
        of log2(size / bound) over what exceeds its bound."""
        limit = max(self.limit, 0.5)
        res = model.results(widths)
        out, labels = 0.0, set()
        for sub, size in res:
            if size > self.limit:
                out += math.log2(size / limit)
                labels.update(sub)
        if self.live or self.held:
            c = model.cost(widths)
            work = WORKING_FACTOR * limit
            over = [x for x, on in ((c.live, self.live), (c.held, self.held))
                    if on and x > work]
            for x in over:
                out += math.log2(x / work)
            if over:  # the larger intermediates make up the working sets
                top = max(size for _, size in res)
                for sub, size in res:
                    if 4 * size >= top:
                        labels.update(sub)
        return out, labels

    def fits(self, model, widths) -> bool:
        return self.excess(model, widths)[0] == 0

    def affords(self, cost) -> bool:
        return cost.count <= MAX_SLICES and (self.flops is None or cost.flops <= self.flops)


def _next_width(size, width):
    """The largest divisor of ``size`` below ``width`` (cutting the label finer)."""
    for w in range(width - 1, 0, -1):
        if size % w == 0:
            return w
    return None


def _greedy(model, widths, target, best_effort=False):
    """Our slice finder: from ``widths``, cut one label finer at a time (to its next
    divisor), the one adding the fewest FLOPs (log) per unit of excess removed, until the
    slicing fits ``target``. When no cut within MAX_SLICES slices (and the target's
    FLOPs) helps: None, or with ``best_effort`` the slicing reached."""
    widths = dict(widths)
    excess, labels = target.excess(model, widths)
    flops = model.cost(widths).flops
    while excess > 0:
        best = None
        for lab in model.sliceable:
            if lab not in labels:
                continue
            size = model.sizes[lab]
            w = _next_width(size, widths.get(lab, size))
            if w is None:
                continue
            trial = dict(widths)
            trial[lab] = w
            c = model.cost(trial)
            if not target.affords(c):
                continue
            e2, labels2 = target.excess(model, trial)
            if e2 >= excess:
                continue
            score = math.log2(max(c.flops, 1) / max(flops, 1)) / (excess - e2)
            key = (score, e2, c.count)
            if best is None or key < best[0]:
                best = (key, trial, e2, labels2, c.flops)
        if best is None:
            return widths if best_effort else None
        _, widths, excess, labels, flops = best
    return widths


def _widen(model, widths, fixed, target):
    """Cut each label of ``widths`` (but those in ``fixed``) as coarsely as ``target``
    allows: the largest divisor of its size that keeps the slicing as close to fitting.
    cotengra cuts whole indices; a label of size 1000 it cuts into 1000 slices may need
    only 2."""
    widths = dict(widths)
    excess = target.excess(model, widths)[0]
    for lab in list(widths):
        if lab in fixed:
            continue
        size = model.sizes[lab]
        for w in sorted((d for d in range(widths[lab] + 1, size + 1) if size % d == 0),
                        reverse=True):
            trial = dict(widths)
            trial[lab] = w
            if target.excess(model, trial)[0] <= excess:
                widths = trial
                break
    return {lab: w for lab, w in widths.items() if w < model.sizes[lab]}


def _cotengra():
    try:
        import cotengra
    except ImportError:  # the greedy finder of ours does the work
        return None
    return cotengra


def _cotengra_find(model, path, widths, target, best_effort=False, seed=0):
    """cotengra's slice finder (``ContractionTree.slice``) on our path and the sizes a
    slice already has under ``widths``, asked for smaller target sizes until the working
    sets fit too. None when cotengra is missing, the path has steps that are not
    pairwise, or nothing it finds fits (with ``best_effort``: the closest affordable)."""
    ctg = _cotengra()
    spec = model.spec
    if ctg is None or len(spec.inputs) < 2 or any(len(p) != 2 for p in path):
        return None
    sizes = {lab: widths.get(lab, d) for lab, d in model.sizes.items()}
    try:
        tree = ctg.ContractionTree.from_path([tuple(s) for s in spec.inputs],
                                             tuple(spec.output), sizes, path=path)
    except Exception:  # noqa: BLE001 - a tree cotengra refuses: our own finder instead
        return None
    size, best = target.limit, None
    while size >= 1:
        try:
            sliced = tree.slice(target_size=size, seed=seed, allow_outer=True)
        except (ValueError, RuntimeError):  # cotengra ran out of indices to slice
            break
        trial = dict(widths)
        trial.update({lab: 1 for lab in sliced.sliced_inds})
        if not target.affords(model.cost(trial)):
            break  # smaller targets only cost more
        excess = target.excess(model, trial)[0]
        if excess == 0:
            return trial
        if best is None or excess < best[0]:
            best = (excess, trial)
        size //= 2
    return best[1] if best_effort and best is not None else None


def _find(model, path, widths, target, best_effort=False):
    """The slicing of ``path`` that fits ``target``, cutting further from ``widths``:
    (widths, who found it), or (None, None); with ``best_effort``, the affordable slicing
    closest to fitting when none fits (possibly ``widths`` itself)."""
    if target.fits(model, widths):
        return widths, "none needed"
    found = _cotengra_find(model, path, widths, target)
    if found is not None:
        return _widen(model, found, widths, target), "cotengra"
    found = _greedy(model, widths, target)
    if found is not None:
        return found, "greedy"
    if not best_effort:
        return None, None
    tries = [(w, who) for w, who in (
        (_cotengra_find(model, path, widths, target, best_effort=True), "cotengra"),
        (_greedy(model, widths, target, best_effort=True), "greedy")) if w is not None]
    w, who = min(tries, key=lambda t: target.excess(model, t[0])[0], default=(widths, ""))
    if target.excess(model, w)[0] >= target.excess(model, widths)[0]:
        return widths, "none affordable"
    return (_widen(model, w, widths, target) if who == "cotengra" else w), \
        f"{who} (the closest within {REFINE_FLOPS}x the FLOPs)"


def _refine(model, path, widths, target):
    """A slicing fitting ``target`` from ``widths`` if one within ``REFINE_FLOPS`` times
    the FLOPs of ``widths`` exists, else the closest one that does; and who found it."""
    budget = _Target(target.limit, target.live, target.held,
                     REFINE_FLOPS * model.cost(widths).flops)
    return _find(model, path, widths, budget, best_effort=True)


def _floor(model, widths):
    """The smallest limit the greedy finder reaches within MAX_SLICES slices (the figure
    the error names): a bisection over limits, from ``widths``."""
    hi = max(model.cost(widths).peak, 1)
    lo = 0  # a limit of 0 elements fits nothing (but empty contractions, never sliced)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _greedy(model, widths, _Target(mid)) is None:
            lo = mid
        else:
            hi = mid
    return hi


# ------------------------------------------------------------------------ slicings


@dataclass(frozen=True)
class Slicing:
    """One way of splitting a contraction into slices.

    ``labels`` are cut into chunks of ``widths`` (``counts`` chunks each; ``count`` slices
    in all, numbered by a chunk number per label, the last label fastest). ``inner`` is
    the :class:`Plan` of one slice: the same spec, sliced labels at their width, the
    unsliced order's path. ``operands[k]`` / ``output`` list (axis, label position) for
    each sliced axis of operand k / of the output. ``cost`` prices it; ``finder`` says
    who chose the labels.
    """

    labels: tuple
    widths: tuple
    counts: tuple
    inner: Plan
    operands: tuple
    output: tuple
    cost: Cost
    finder: str = ""

    @property
    def count(self) -> int:
        return self.cost.count

    def chunks(self):
        """Every slice's chunk numbers, in order."""
        return itertools.product(*[range(c) for c in self.counts])

    def index(self, axes, ndim, chunk):
        """The basic index of ``chunk``'s region of an array of ``ndim`` axes whose
        sliced axes are ``axes`` ((axis, label position), ...)."""
        idx = [slice(None)] * ndim
        for axis, i in axes:
            w = self.widths[i]
            idx[axis] = slice(chunk[i] * w, (chunk[i] + 1) * w)
        return tuple(idx)

    def region(self, axes, chunk):
        """The chunk numbers that name ``chunk``'s region of an array with ``axes``."""
        return tuple(chunk[i] for _, i in axes)

    def take(self, operands, chunk, getitem):
        """Each operand's chunk for slice ``chunk`` (``getitem(x, index)``; operands
        without a sliced label are passed as they are)."""
        return [x if not axes else getitem(x, self.index(axes, len(x.shape), chunk))
                for x, axes in zip(operands, self.operands)]

    def each(self, operands, getitem):
        """The operands' chunks of every slice, in order (one slice's at a time)."""
        for chunk in self.chunks():
            yield self.take(operands, chunk, getitem)


def _slicing(spec, shapes, dtypes, bk, path, model, widths, finder) -> Slicing:
    labels = tuple(lab for lab in spec.labels if widths.get(lab, model.sizes[lab])
                   < model.sizes[lab])
    ws = tuple(widths[lab] for lab in labels)
    counts = tuple(model.sizes[lab] // w for lab, w in zip(labels, ws))
    pos = {lab: i for i, lab in enumerate(labels)}
    sub_shapes = tuple(tuple(widths[lab] if lab in pos else d for lab, d in zip(sub, shape))
                       for sub, shape in zip(spec.inputs, shapes))
    inner = plan(spec, sub_shapes, dtypes, ("path", tuple(tuple(p) for p in path)), bk)
    axes = lambda sub: tuple((a, pos[lab]) for a, lab in enumerate(sub) if lab in pos)
    cost = model.cost({lab: widths[lab] for lab in labels})
    return Slicing(labels, ws, counts, inner, tuple(axes(s) for s in spec.inputs),
                   axes(spec.output), cost, finder)


@dataclass(frozen=True)
class SlicedPlan:
    """A contraction under a memory limit: the path, and a :class:`Slicing` per direction.

    ``limit`` is the limit in elements (None: no limit, a cotengra slicing or an executor
    only); ``unsliced`` prices the path without slicing. ``forward`` is what evaluating
    runs; :func:`backward_slicing` gives the backward's (made on first use).
    """

    spec: Spec
    shapes: tuple
    dtypes: tuple
    limit: int | None
    path: tuple
    unsliced: Cost
    forward: Slicing
    backend: object = field(default=None, compare=False, repr=False)
    model: object = field(default=None, compare=False, repr=False)
    given: tuple = ()  # (label, width) a cotengra tree came with
    memo: dict = field(default_factory=dict, compare=False, repr=False)


_BACKWARD_LOCK = threading.Lock()


def backward_slicing(sp: SlicedPlan) -> Slicing:
    """The slicing the backward runs (made on first use, cached on the plan): the
    forward's when what one slice's backward holds fits ``WORKING_FACTOR`` times the
    limit, else one cut finer, that fits if one within ``REFINE_FLOPS`` times the
    forward's FLOPs does (else the closest such one: its ``cost.held`` says what a slice
    holds)."""
    found = sp.memo.get("backward")
    if found is not None:
        return found
    fwd = sp.forward
    target = _Target(sp.limit or 0, live=True, held=True)
    if sp.limit is None or target.fits(sp.model, dict(zip(fwd.labels, fwd.widths))):
        found = fwd
    else:
        start = dict(zip(fwd.labels, fwd.widths))
        widths, finder = _refine(sp.model, list(sp.path), start, target)
        found = fwd if widths == start else _slicing(
            sp.spec, sp.shapes, sp.dtypes, sp.backend, sp.path, sp.model, widths, finder)
    with _BACKWARD_LOCK:
        sp.memo["backward"] = found
    return found


def _short(spec) -> str:
    """``spec`` for a message: in full when short, else its start and its operand count."""
    text = str(spec)
    return text if len(text) <= 72 else f"{text[:60]}... ({len(spec.inputs)} operands)"


def _too_small(spec, limit, floor, dtypes, bk):
    dt = bk.result_type(*dtypes) if dtypes else None
    item = bk.itemsize(dt) if dt is not None else 8
    return ValueError(
        f"einsum: memory_limit={limit} elements ({_bytes(limit * item)} of "
        f"{bk.dtype_name(dt) if dt is not None else 'float64'}) is too small to contract "
        f"{_short(spec)} by slicing: within {MAX_SLICES} slices the smallest feasible limit "
        f"is {floor} elements ({_bytes(floor * item)})")


def _given_slicing(spec, opt, shapes):
    """The path and sliced labels a cotengra optimizer or tree comes with, in the spec's
    labels; (None, ()) for any other optimizer."""
    obj = opt.obj if isinstance(opt, _ByIdentity) else None
    if obj is None:
        return None, ()
    if _is_contraction_tree(obj):
        tree = obj
        if len(tree.inputs) != len(spec.inputs) or any(
                len(t) != len(s) for t, s in zip(tree.inputs, spec.inputs)):
            raise ValueError(
                f"einsum: the ContractionTree was made for {len(tree.inputs)} operand(s) of "
                f"ranks {[len(t) for t in tree.inputs]}, not for {_short(spec)} (ranks "
                f"{[len(s) for s in spec.inputs]})")
        names = {}
        for t, s in zip(tree.inputs, spec.inputs):
            for ind, lab in zip(t, s):
                names.setdefault(ind, lab)
    else:  # HyperOptimizer / ReusableHyperOptimizer: asked on our own labels
        sizes = label_sizes(spec, shapes)
        tree = obj.search([tuple(s) for s in spec.inputs], tuple(spec.output), dict(sizes))
        names = {lab: lab for lab in spec.labels}
    path = [tuple(p) for p in tree.get_path()]
    _check_path(path, len(spec.inputs))
    given = tuple(names[ind] for ind in getattr(tree, "sliced_inds", ()) if ind in names)
    return path, given


def _memory_path(spec, shapes, base, limit):
    """opt_einsum's own answer to the limit: a path of ``base`` (an optimizer name) keeping
    every intermediate within ``limit``, when it finds one of pairwise steps."""
    if base.__class__ is not str or base not in _NAMES or len(spec.inputs) < 3:
        return None
    try:
        path, _ = opt_einsum.contract_path(str(spec), *shapes, shapes=True, optimize=base,
                                           memory_limit=max(limit, 1))
    except (ValueError, TypeError):
        return None
    path = [tuple(p) for p in path]
    return path if all(len(p) <= 2 for p in path) else None


def sliced_plan(spec: Spec, shapes, dtypes, key: Sliced, bk=None) -> SlicedPlan:
    """The cached :class:`SlicedPlan` of ``spec`` on ``shapes``/``dtypes`` under ``key``
    (from :func:`sliced_key`), on backend ``bk`` (default NumPy).

    Raises:
        ValueError: no slicing within :data:`MAX_SLICES` slices fits the limit (the
            message names the smallest limit that does).
    """
    shapes = tuple(map(tuple, shapes))
    bk = _backend.default() if bk is None else bk
    ckey = (spec, shapes, tuple(dtypes), key, bk)
    found = _CACHE.get(ckey)
    if found is not None:
        return found
    result = _build(spec, shapes, tuple(dtypes), key, bk)
    _CACHE.put(ckey, result)
    return result


def _build(spec, shapes, dtypes, key, bk) -> SlicedPlan:
    base = key.base
    path, given = _given_slicing(spec, base, shapes)
    if path is None:
        path = choose_path(spec, shapes, base, bk)
    sizes = label_sizes(spec, shapes)
    dt = bk.result_type(*dtypes) if dtypes else None
    limit = _elements(key.limit, shapes, dt, bk)
    model = _Model(spec, path, sizes)
    start = {lab: 1 for lab in given if sizes[lab] > 1}
    unsliced = model.cost({})
    widths, finder = start, ("cotengra" if start else "none needed")
    if limit is not None:
        widths, finder = _find(model, path, start, _Target(limit))
        alt = _memory_path(spec, shapes, base, limit) if not start else None
        if alt is not None and alt != path:
            alt_model = _Model(spec, alt, sizes)
            alt_cost = alt_model.cost({})
            if _Target(limit).fits(alt_model, {}) and (
                    widths is None or alt_cost.flops < model.cost(widths).flops):
                path, model, widths, finder = alt, alt_model, {}, "path (opt_einsum)"
        if widths is None:
            raise _too_small(spec, limit, _floor(model, start), dtypes, bk)
        # what a slice's forward holds at once, brought within WORKING_FACTOR limits if
        # that is affordable
        live = _Target(limit, live=True)
        if not live.fits(model, widths):
            finer, who = _refine(model, path, widths, live)
            if finer != widths:
                widths, finder = finer, f"{finder}, then {who}"
    path = tuple(tuple(p) for p in path)
    forward = _slicing(spec, shapes, dtypes, bk, path, model, widths, finder)
    return SlicedPlan(spec, shapes, dtypes, limit, path, unsliced, forward, bk, model,
                      tuple(sorted(start.items())))


# ------------------------------------------------------------------------ running


class Accumulator:
    """An array of ``shape`` assembled from slices: ``add(chunk, value)`` adds a slice's
    value into its region (``axes`` are the array's sliced axes, as in :class:`Slicing`),
    in place on the backend, into zeros of the first value's dtype. With one slice in all,
    that value is the result as it is."""

    __slots__ = ("slicing", "axes", "shape", "bk", "value")

    def __init__(self, slicing: Slicing, axes, shape, bk):
        self.slicing = slicing
        self.axes = axes
        self.shape = tuple(shape)
        self.bk = bk
        self.value = None

    def add(self, chunk, value):
        if self.slicing.count == 1:
            self.value = value
            return
        bk = self.bk
        if self.value is None:
            self.value = bk.zeros(self.shape, dtype=value.dtype, device=bk.device(value))
        index = self.slicing.index(self.axes, len(self.shape), chunk)
        self.value = bk.add_region(self.value, index, value)

    def result(self):
        return self.value


def output_shape(sp: SlicedPlan) -> tuple:
    """The shape of the whole result of ``sp``."""
    sizes = sp.model.sizes
    return tuple(sizes[lab] for lab in sp.spec.output)


def contract_slice(spec, key, *operands):
    """One slice's contraction, the task an executor runs: ``spec`` on these operands
    along path ``key`` (the plan is made, and cached, where the task runs)."""
    p = plan(spec, [x.shape for x in operands], [x.dtype for x in operands], key,
             _backend.of(operands[0]))
    return _run(p, operands)


def _run(p: Plan, operands):
    steps = p.steps
    if len(steps) == 1:
        return steps[0].run(*operands)
    return run(p, operands, keep=())[0]  # no step result held past its one reader


def contract_sliced(sp: SlicedPlan, operands, executor=None):
    """Evaluate ``sp`` on plain arrays: the slices in turn (or mapped over ``executor``),
    each slice's result added into its region of the output as it comes."""
    s = sp.forward
    bk = sp.backend
    acc = Accumulator(s, s.output, output_shape(sp), bk)
    if executor is None:
        results = (_run(s.inner, ops) for ops in s.each(operands, bk.getitem))
    else:
        mapper = Mapper(executor)
        shared = [mapper.share(x) if not axes else x for x, axes in zip(operands, s.operands)]
        key = ("path", sp.path)
        results = mapper.map(contract_slice, ((sp.spec, key, *ops)
                                              for ops in s.each(shared, bk.getitem)))
    for chunk, r in zip(s.chunks(), results):
        acc.add(chunk, r)
    return acc.result()


# ------------------------------------------------------------------------ executors


class Mapper:
    """Run tasks on a ``concurrent.futures``-style executor (``submit(fn, *args)`` giving
    futures with ``result()``), at most ``window`` in flight, results in submission order.

    A ``distributed.Client`` (it has ``scatter``) gets every array argument scattered
    first, and :meth:`share` scatters an array every task reads once, to every worker.
    """

    def __init__(self, executor, window=None):
        if not callable(getattr(executor, "submit", None)):
            raise TypeError(f"einsum: executor must have a submit(fn, *args) method (a "
                            f"concurrent.futures Executor or a distributed.Client), got "
                            f"{type(executor).__name__}")
        self.executor = executor
        self.scatter = getattr(executor, "scatter", None)
        self.window = window or max(2, _workers(executor) + 1)

    def share(self, x):
        """``x`` as every task will read it (scattered once to a distributed cluster)."""
        if self.scatter is None or not _backend.is_array(x):
            return x
        return self.scatter(x, broadcast=True, hash=False)

    def _args(self, args):
        if self.scatter is None:
            return args
        return tuple(self.scatter(a, hash=False) if _backend.is_array(a) else a
                     for a in args)

    def map(self, fn, tasks):
        """``fn(*args)`` for each tuple of ``tasks``, yielded in order."""
        pending = deque()
        for args in tasks:
            pending.append(self.executor.submit(fn, *self._args(args)))
            if len(pending) >= self.window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _workers(executor) -> int:
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int) and n > 0:
        return n
    nthreads = getattr(executor, "nthreads", None)
    if callable(nthreads):
        try:
            return max(1, sum(nthreads().values()))
        except Exception:  # noqa: BLE001 - a client not connected: one at a time
            return 1
    return 1


def map_slices(executor, fn, tasks, window=None):
    """``fn(*args)`` for each argument tuple of ``tasks`` on ``executor``, in order."""
    return Mapper(executor, window).map(fn, tasks)
