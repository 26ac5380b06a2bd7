"""``explain``: what einsum_ad will do for an einsum, forward and backward, and what it costs.

The report reads the same cached plan the einsum node runs: the canonical spec, each
pairwise step with the kernel it is lowered to (BLAS GEMM, batched GEMM, elementwise,
outer, reduction, transpose/view), its FLOPs and the size of its result; then the backward
pass, the adjoint steps in the order they run, and for each operand the FLOPs on its path
next to what computing its adjoint alone would cost. FLOPs are counted as opt_einsum
counts them (a multiply-add is two). Specs are shown in canonical labels and, when the
caller wrote other letters, in the caller's own labels as well (``ab,b->a = ij,j->i``).
"""

from __future__ import annotations

import argparse
import math
import numbers
import string
import sys
from dataclasses import dataclass

import opt_einsum
from opt_einsum.helpers import flop_count

from . import backend as _backend
from . import execute as contract
from .core import unwrap
from .spec import Spec, adjoint, label_sizes, normalize, parse

__all__ = ["explain", "Explanation", "ProgramExplanation", "SlicingReport", "add_arguments",
           "run"]


def _cost(spec: Spec, sizes) -> int:
    """opt_einsum's FLOP count for one contraction ``spec``."""
    labels = spec.labels
    inner = any(lab not in spec.output for lab in labels)
    return flop_count(labels, inner, len(spec.inputs), sizes)


def _kind(lowered) -> str:
    kind = lowered.kind
    extra = []
    for prep in (getattr(lowered, "prep", None), getattr(lowered, "prep_a", None),
                 getattr(lowered, "prep_b", None)):
        if prep is not None and prep.groups is not None and "diagonal view" not in extra:
            extra.append("diagonal view")
        if (prep is not None and prep.axes and kind != "reduction"
                and "sum first" not in extra):
            extra.append("sum first")
    return kind + (f" (+ {', '.join(extra)})" if extra else "")


@dataclass(frozen=True)
class Row:
    """One line of the report: a forward step or an adjoint step."""

    spec: Spec
    kind: str
    flops: int
    size: int  # elements of the result
    args: tuple  # names of what the step reads
    result: str  # name of what it produces


@dataclass(frozen=True)
class Explanation:
    """The plan of one einsum and its costs; ``str()`` of it is the report.

    Attributes:
        spec: the canonical Spec; ``subscripts`` what the user wrote.
        forward, backward: the steps (:class:`Row`), in the order they run.
        flops_forward, flops_backward: totals; ``flops_naive`` is the single n-ary loop.
        per_operand: for each operand, (FLOPs of the backward steps on its path, FLOPs of
            its adjoint computed alone, by the best path for that contraction).
        largest_intermediate: elements of the largest step result.
        labels: ``(canonical, caller's, origin)`` for every label when the caller's letters
            differ from the canonical ones (empty otherwise): origin is ``""`` for a letter
            the caller wrote, ``"..."`` for a dimension under an ellipsis and
            ``"broadcast"`` for a size-1 axis broadcast against a larger one (these two get
            letters the caller did not use).
    """

    subscripts: str
    spec: Spec
    shapes: tuple
    dtype: object  # a NumPy dtype of the operands' dtype's name (for its itemsize)
    optimize: object
    forward: tuple
    backward: tuple
    per_operand: tuple
    flops_naive: int
    labels: tuple = ()
    slicing: SlicingReport | None = None

    @property
    def flops_forward(self) -> int:
        return sum(r.flops for r in self.forward)

    @property
    def flops_backward(self) -> int:
        return sum(r.flops for r in self.backward)

    @property
    def largest_intermediate(self) -> int:
        return max((r.size for r in self.forward), default=0)

    @property
    def speedup(self) -> float:
        """Naive (one n-ary loop) FLOPs over the planned forward's FLOPs."""
        return self.flops_naive / max(self.flops_forward, 1)

    def in_caller_labels(self, spec) -> str:
        """``spec`` (a Spec or its string) written in the caller's letters (as it is when
        the caller's letters are the canonical ones)."""
        text = str(spec)
        if not self.labels:
            return text
        return text.translate(str.maketrans({c: mine for c, mine, _ in self.labels}))

    def __str__(self) -> str:
        item = self.dtype.itemsize
        mine = self.in_caller_labels
        lines = [f"einsum {self.subscripts!r}  (optimize={self.optimize!r}, {self.dtype})",
                 f"  canonical spec: {self.spec}"]
        if self.labels:
            named = ", ".join(f"{c}={m}" for c, m, _ in self.labels if c != m)
            lines.append(f"  in your labels: {mine(self.spec)}  ({named})")
            for origin, what in (("...", "the dimensions under '...'"),
                                 ("broadcast", "size-1 axes broadcast against larger ones")):
                letters = [m for _, m, o in self.labels if o == origin]
                if letters:
                    lines.append(f"    ({', '.join(letters)}: {what}, in letters of "
                                 "their own)")
        lines += ["  shapes: " + ", ".join(str(tuple(s)) for s in self.shapes), "",
                  "forward:"]
        lines += _table(self.forward, item, mine if self.labels else None)
        lines += ["", "backward (every operand differentiated; steps in the order they run):"]
        lines += (_table(self.backward, item, mine if self.labels else None)
                  if self.backward else ["  (no steps)"])
        lines += ["", "backward per operand (FLOPs on its path, shared / its adjoint alone):"]
        for k, (path, alone) in enumerate(self.per_operand):
            lines.append(f"  operand {k} ({self.spec.inputs[k] or 'scalar'}): "
                         f"{_num(path)} / {_num(alone)}")
        lines += ["", "cotangent of each operand on its own, in "
                      + ("your labels" if self.labels else "canonical labels")
                      + " (g: the cotangent of the output):"]
        for k in range(len(self.spec.inputs)):
            lines.append(f"  operand {k} ({mine(self.spec.inputs[k]) or 'scalar'}): "
                         f"{_adjoint_text(self.spec, k, mine)}")
        fwd, bwd = self.flops_forward, self.flops_backward
        lines += ["", f"total FLOPs: forward {_num(fwd)}, backward {_num(bwd)}, "
                      f"forward+backward / forward = {(fwd + bwd) / max(fwd, 1):.2f}",
                  f"largest intermediate: {_count(self.largest_intermediate, 'element')} "
                  f"({_bytes(self.largest_intermediate * item)})",
                  f"unoptimised order (one n-ary loop): {_num(self.flops_naive)} FLOPs; "
                  f"speed-up {self.speedup:.3g}x"]
        if self.slicing is not None:
            lines += [""] + self.slicing.lines(item)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Explanation({self.spec}, steps={len(self.forward)}, "
                f"flops_forward={self.flops_forward}, flops_backward={self.flops_backward})")


def _num(x) -> str:
    return f"{x:,}" if x < 1e7 else f"{x:.3e}"


def _count(x, noun) -> str:
    """``1 element``, ``3 elements``, ``1.2e+07 elements``."""
    return f"{_num(x)} {noun}{'' if x == 1 else 's'}"


def _adjoint_text(spec, k, mine) -> str:
    """Operand k's adjoint on its own, as the einsum call (and spread) that computes it."""
    adj = adjoint(spec, k)
    args = ", ".join(["g"] + [f"op{m}" for m in adj.others])
    text = f'einsum("{mine(adj.contraction)}", {args})'
    if adj.spread is not None:
        src_, dst = adj.spread.inputs[0], adj.spread.output
        twice = "".join(dict.fromkeys(lab for lab in dst if dst.count(lab) > 1))
        new = "".join(dict.fromkeys(lab for lab in dst if lab not in src_ + twice))
        how = []
        if new:
            how.append(f"broadcast along {mine(new)}")
        if twice:
            how.append(f"written onto the diagonal of {mine(twice)}")
        text += f", {' and '.join(how)} to {mine(dst) or 'a scalar'}"
    return text


def _caller_labels(subscripts, shapes, spec) -> tuple:
    """``(canonical, caller's letter, origin)`` per canonical label, or ``()`` when the
    caller's letters are the canonical ones, or when no letters are left for the labels
    the caller did not name (more than 52 labels: the canonical ones are kept)."""
    terms, _, _ = parse((subscripts,) + tuple(shapes))
    expanded = []
    for term, shape in zip(terms, shapes):
        if Ellipsis in term:
            i = term.index(Ellipsis)
            width = len(shape) - (len(term) - 1)
            expanded.append(list(term[:i]) + [None] * width + list(term[i + 1:]))
        else:
            expanded.append(list(term))
    size = {}  # a letter's size: its non-1 size, if any (numpy broadcasts 1 against it)
    for axes, shape in zip(expanded, shapes):
        for lab, d in zip(axes, shape):
            if lab is not None and (d != 1 or lab not in size):
                size[lab] = d
    mapping, origin = {}, {}
    for axes, canon, shape in zip(expanded, spec.inputs, shapes):
        for lab, c, d in zip(axes, canon, shape):
            if c in mapping:
                continue
            if lab is None:
                origin[c] = "..."
            elif d == 1 and size[lab] != 1:
                origin[c] = "broadcast"
            else:
                mapping[c] = lab
    written = set("".join(ch for ch in subscripts if ch in string.ascii_letters))
    free = [ch for ch in string.ascii_letters if ch not in written]
    for c in spec.labels:
        if c in mapping:
            continue
        pick = c if c in free else next((ch for ch in free), None)
        if pick is None:
            return ()
        free.remove(pick)
        mapping[c] = pick
    if all(c == m for c, m in mapping.items()):
        return ()
    return tuple((c, mapping[c], origin.get(c, "")) for c in spec.labels)


def _bytes(n) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def _table(rows, item, mine=None) -> list[str]:
    out = []
    for i, r in enumerate(rows):
        spec = str(r.spec)
        if mine and mine(spec) != spec:
            spec += f" = {mine(spec)}"
        out.append(f"  {i:>2}. {', '.join(r.args)} -> {r.result}: {spec}  [{r.kind}]  "
                   f"{_count(r.flops, 'FLOP')}, result {_count(r.size, 'element')} "
                   f"({_bytes(r.size * item)})")
    return out


def _as_shape(x, k):
    if isinstance(x, (tuple, list)) and all(isinstance(d, numbers.Integral) for d in x):
        if any(int(d) < 0 for d in x):
            raise ValueError(f"explain: operand {k} has a negative dimension in shape {x}")
        return tuple(int(d) for d in x), None
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return (int(x),), None
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return tuple(x.shape), x.dtype
    raise TypeError(f"explain: operand {k} must be an array or a shape (tuple of ints), "
                    f"got {type(x).__name__}")


def explain(subscripts: str, *operands_or_shapes, optimize="auto", dtype=None,
            memory_limit=None) -> Explanation:
    """Explain how einsum_ad evaluates and differentiates ``subscripts`` on these operands.

    Args:
        subscripts: einsum subscripts, as for :func:`einsum_ad.einsum` (string form).
        *operands_or_shapes: the operands, or just their shapes (tuples of ints).
        optimize: the optimizer, as for :func:`einsum_ad.einsum`.
        dtype: the dtype sizes are reported in (default: the operands', else float64).
        memory_limit: as for :func:`einsum_ad.einsum`: the report then shows one slice's
            steps and a slicing section (see :class:`SlicingReport`).

    Returns:
        An :class:`Explanation`; ``print()`` it for the report. Given a jitted function
        (``ea.jit(f)``) and its arguments instead of subscripts and operands, a
        :class:`ProgramExplanation`: the plan of every einsum node of its optimised
        program (fused nodes included).

    Examples:
        >>> import einsum_ad as ea
        >>> e = ea.explain("bij,bjk->bik", (8, 32, 64), (8, 64, 16))
        >>> [r.kind for r in e.forward], e.flops_forward, e.flops_backward
        (['batched GEMM'], 524288, 1048576)
        >>> print(str(e).splitlines()[1])
          canonical spec: abc,acd->abd
    """
    if getattr(subscripts, "__einsum_ad_jit__", False):  # a jitted function: its program
        return _explain_program(subscripts.program(*operands_or_shapes))
    if not isinstance(subscripts, str):
        raise TypeError(f"explain: subscripts must be a string (or a jitted function), "
                        f"got {type(subscripts).__name__}")
    shapes, dtypes = [], []
    for k, x in enumerate(operands_or_shapes):
        s, d = _as_shape(x, k)
        shapes.append(s)
        dtypes.append(d)
    arrays = [unwrap(x) for x in operands_or_shapes if _as_shape(x, 0)[1] is not None]
    bk = _backend.common(arrays, "explain") if arrays else _backend.default()
    terms, output, _ = parse((subscripts,) + tuple(shapes))
    spec = normalize(terms, output, shapes)
    return _explain(subscripts, spec, shapes, dtypes, optimize, bk, dtype, memory_limit)


def _explain(subscripts, spec, shapes, dtypes, optimize, bk, dtype, memory_limit=None):
    """The Explanation of canonical ``spec`` on ``shapes`` (dtypes None where unknown)."""
    if dtype is None:
        known = [d for d in dtypes if d is not None]
        dtype = bk.result_type(*known) if known else bk.float64
    dtype = bk.dtype(dtype)
    dts = [d if d is not None else dtype for d in dtypes]
    key = contract.optimize_key(optimize)
    report = None
    if memory_limit is not None or key.__class__ is contract.Sliced:
        sp = contract.sliced_plan(spec, shapes, dts, contract.sliced_key(key, memory_limit), bk)
        report = _slicing_report(sp)
        p = sp.forward.inner  # the tables show one slice
    else:
        p = contract.plan(spec, shapes, dts, key, bk)
    sizes = label_sizes(spec, p.shapes)
    n = len(shapes)
    name = lambda i: f"op{i}" if i < n else f"t{i - n}"
    forward, backward = [], []
    for j, step in enumerate(p.steps):
        forward.append(Row(step.spec, _kind(step.run), _cost(step.spec, sizes),
                           math.prod(step.shape), tuple(name(i) for i in step.args),
                           "out" if j == len(p.steps) - 1 else name(n + j)))
    path_cost = {n + len(p.steps) - 1: 0}
    for j in range(len(p.steps) - 1, -1, -1):
        step = p.steps[j]
        grad = "g_out" if j == len(p.steps) - 1 else f"g_{name(n + j)}"
        for pos, i in enumerate(step.args):
            adj = step.adjoints[pos]
            kind = _kind(adj.run)
            if adj.spread is not None:
                kind += " + spread"
            cost = _cost(adj.contraction, sizes)
            reads = (grad,) + tuple(name(step.args[m]) for m in adj.others)
            backward.append(Row(adj.contraction, kind, cost, math.prod(adj.shape), reads,
                                f"g_{name(i)}"))
            path_cost[i] = path_cost[n + j] + cost
    per_operand = []
    for k in range(n):
        alone = adjoint(spec, k).contraction
        ashapes = [tuple(sizes[lab] for lab in sub) for sub in alone.inputs]
        per_operand.append((path_cost[k], _best_cost(alone, ashapes)))
    naive = _naive_cost(spec, shapes)
    host_dtype = _backend.default().dtype(bk.dtype_name(dtype))
    return Explanation(subscripts, spec, tuple(shapes), host_dtype, optimize,
                       tuple(forward), tuple(backward), tuple(per_operand), naive,
                       _caller_labels(subscripts, shapes, spec), report)


# ---------------------------------------------------------------- slicing


@dataclass(frozen=True)
class SlicingReport:
    """How a contraction under ``memory_limit`` is sliced (``execute/slicing.py``).

    Attributes:
        limit: the limit in elements (None: a cotengra slicing or an executor alone).
        labels: (label, size, chunk width) of each sliced label.
        slices: the number of slices.
        flops, flops_unsliced: forward FLOPs of all slices, and of the unsliced order.
        peak, peak_unsliced: elements of the largest intermediate of a slice, and of the
            unsliced order.
        live, held: the most elements of intermediates one slice's forward, and its
            backward, hold at once.
        finder: who chose the labels (``"cotengra"``, ``"greedy"``, ...).
        backward: the backward's own report when it slices finer (else None).
    """

    limit: int | None
    labels: tuple
    slices: int
    flops: int
    flops_unsliced: int
    peak: int
    peak_unsliced: int
    live: int
    held: int
    finder: str
    backward: object = None

    @property
    def overhead(self) -> float:
        """FLOPs of the sliced forward over the unsliced order's."""
        return self.flops / max(self.flops_unsliced, 1)

    def lines(self, item, title="slicing") -> list[str]:
        limit = ("none" if self.limit is None
                 else f"{_num(self.limit)} elements ({_bytes(self.limit * item)})")
        cut = ", ".join(f"{lab} ({w} of {d})" for lab, d, w in self.labels) or "none"
        out = [f"{title} (memory_limit: {limit}; labels chosen by: {self.finder}):",
               f"  sliced labels (chunk of size): {cut}",
               f"  slices: {_num(self.slices)}" + ("  (the steps above are one slice's)"
                                                   if self.slices > 1 else ""),
               f"  FLOPs: {_num(self.flops)} sliced, {_num(self.flops_unsliced)} unsliced "
               f"(overhead {self.overhead:.3f}x)",
               f"  largest intermediate: {_num(self.peak_unsliced)} elements "
               f"({_bytes(self.peak_unsliced * item)}) unsliced, {_num(self.peak)} "
               f"({_bytes(self.peak * item)}) per slice",
               f"  one slice holds at most {_num(self.live)} elements "
               f"({_bytes(self.live * item)}) of intermediates in its forward, "
               f"{_num(self.held)} ({_bytes(self.held * item)}) in its backward"]
        if self.backward is not None:
            out += self.backward.lines(item, "backward slicing (finer: what its backward "
                                             "holds must fit too)")
        elif title == "slicing":
            out.append("  backward: the same slicing")
        return out


def _slicing_report(sp, s=None, backward=True):
    s = sp.forward if s is None else s
    sizes = sp.model.sizes
    back = None
    if backward:
        b = contract.backward_slicing(sp)
        back = None if b is s else _slicing_report(sp, b, backward=False)
    return SlicingReport(sp.limit, tuple((lab, sizes[lab], w) for lab, w in
                                         zip(s.labels, s.widths)),
                         s.count, s.cost.flops, sp.unsliced.flops, s.cost.peak,
                         sp.unsliced.peak, s.cost.live, s.cost.held, s.finder, back)


@dataclass(frozen=True)
class ProgramExplanation:
    """The einsum nodes of a jitted function's optimised program, each explained.

    Attributes:
        stats: what the program's optimisations did (equations recorded, fused, ...).
        nodes: (position in the program, :class:`Explanation`) per einsum node.
        equations: the program's equations, as ``(primitive name, result shape)``.
    """

    stats: dict
    nodes: tuple
    equations: tuple

    def __str__(self) -> str:
        st = self.stats
        lines = [f"program: {st.get('equations', len(self.equations))} equations "
                 f"({st.get('recorded', '?')} recorded; fused {st.get('fused', 0)}, "
                 f"duplicates {st.get('duplicates', 0)}, dead {st.get('dead', 0)}, "
                 f"folded {st.get('folded', 0)}, identities {st.get('simplified', 0)}); "
                 f"{len(self.nodes)} einsum node(s)"]
        for i, e in self.nodes:
            lines += ["", f"--- equation {i} ---", str(e)]
        return "\n".join(lines)


def _explain_program(program) -> ProgramExplanation:
    nodes = []
    for i, spec, shapes, dtype, optimize in program.einsum_nodes():
        nodes.append((i, _explain(str(spec), spec, list(shapes), [dtype] * len(shapes),
                                  optimize, program.backend, dtype)))
    return ProgramExplanation(dict(program.stats), tuple(nodes),
                              tuple((e.prim.name, e.out.shape) for e in program.eqns))


def _naive_cost(spec, shapes) -> int:
    if len(spec.inputs) == 1:
        return _cost(spec, label_sizes(spec, shapes))
    return int(opt_einsum.contract_path(str(spec), *shapes, shapes=True,
                                        optimize=False)[1].naive_cost)


def _best_cost(spec, shapes) -> int:
    if len(spec.inputs) <= 2:
        return _cost(spec, label_sizes(spec, shapes))
    return int(opt_einsum.contract_path(str(spec), *shapes, shapes=True,
                                        optimize="auto")[1].opt_cost)


# ---------------------------------------------------------------- command line hooks


def _parse_shape(text):
    text = text.strip()
    if text in ("", "()", "-", "scalar"):
        return ()
    try:
        return tuple(int(d) for d in text.strip("()").split(",") if d.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a shape is comma-separated integers like 8,256,64 ('-' for a scalar), "
            f"got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``einsum-ad explain``'s arguments to ``parser``."""
    parser.add_argument("subscripts", help='einsum subscripts, e.g. "bhqd,bhkd->bhqk"')
    parser.add_argument("shapes", nargs="*", type=_parse_shape,
                        help="one shape per operand, e.g. 8,8,256,64 ('-' for a scalar)")
    parser.add_argument("--optimize", default="auto",
                        help="opt_einsum optimizer: auto, greedy, optimal, dp, branch-2, "
                             "random-greedy, auto-hq, ... (default: auto)")
    parser.add_argument("--dtype", default="float64",
                        help="dtype the sizes are reported in (default: float64)")


def run(args: argparse.Namespace) -> int:
    """Print the report for ``args`` (from :func:`add_arguments`); return the exit code."""
    try:
        dtype = _backend.default().dtype(args.dtype)
        report = str(explain(args.subscripts, *args.shapes, optimize=args.optimize,
                             dtype=dtype))
    except (ValueError, TypeError) as exc:
        message = str(exc).removeprefix("explain: ")  # one prefix is enough
        print(f"einsum-ad explain: error: {message}", file=sys.stderr)
        return 2
    print(report)  # a BrokenPipeError (``| head``) is the command line's to handle
    return 0
