"""The one generic VJP rule, as specs: the adjoint of each operand of a Spec.

Pure string logic: nothing here touches an array.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .canonical import Spec

__all__ = ["Adjoint", "adjoint", "transpose_of_spread"]


@dataclass(frozen=True)
class Adjoint:
    """How to build the cotangent of operand ``k`` of a Spec.

    ``contraction`` takes ``(cotangent, *others)`` (the operands other than k, in order)
    to ``reduced``: operand k's labels that the cotangent or another operand carries, each
    once. ``spread`` (or None when ``reduced`` already equals k's subscripts) writes that
    result into k's layout: broadcasting along labels only k has, and onto the diagonal
    for labels k repeats.
    """

    contraction: Spec
    spread: Spec | None
    others: tuple[int, ...]



@lru_cache(maxsize=8192)
def adjoint(spec: Spec, k: int) -> Adjoint:
    """The one generic VJP rule: how operand ``k``'s cotangent is built from ``spec``.

    The cotangent ``g`` has the output's labels. Operand k's adjoint is the contraction of
    ``g`` with every other operand onto k's labels, ``"out,others->s_k"``. Two things a
    single numpy einsum cannot say are split off into ``spread``: a label only operand k
    carries (the result is constant along it: broadcast) and a label k repeats (numpy
    rejects ``"->ii"``: compute it once, then write onto the diagonal).

    >>> from einsum_ad.spec import normalize, parse
    >>> a = adjoint(normalize(*parse(("ij,j->i", None, None))[:2], [(2, 3), (3,)]), 0)
    >>> str(a.contraction), a.spread
    ('a,b->ab', None)
    >>> a = adjoint(normalize(*parse(("iij->j", None))[:2], [(2, 2, 3)]), 0)
    >>> str(a.contraction), str(a.spread)
    ('b->b', 'b->aab')
    """
    sub_k = spec.inputs[k]
    others = tuple(m for m in range(len(spec.inputs)) if m != k)
    present = set(spec.output).union(*(spec.inputs[m] for m in others))
    reduced = "".join(lab for lab in dict.fromkeys(sub_k) if lab in present)
    contraction = Spec((spec.output,) + tuple(spec.inputs[m] for m in others), reduced)
    spread = None if reduced == sub_k else Spec((reduced,), sub_k)
    return Adjoint(contraction, spread, others)


@lru_cache(maxsize=8192)
def transpose_of_spread(spread: Spec) -> Spec:
    """The spread ``t -> s`` is linear; its transpose is the single-operand einsum ``s -> t``."""
    return Spec((spread.output,), spread.inputs[0])

