"""Parse einsum's arguments: the subscripts string or the interleaved sublists.

Pure string logic: nothing here touches an array (operands are passed through).
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["parse", "ELLIPSIS"]

ELLIPSIS = Ellipsis  # the marker for "..." inside a parsed term
_ELL = ELLIPSIS


def _letter_label(ch: str, term: int) -> str:
    if not (("a" <= ch <= "z") or ("A" <= ch <= "Z")):
        where = f"operand {term}" if term >= 0 else "the output"
        raise ValueError(
            f"einsum: invalid subscript {ch!r} in {where}; subscripts must be ASCII letters "
            "(use the interleaved form for more labels)"
        )
    return ch


def _parse_term(text: str, term: int) -> list:
    out = []
    i = 0
    seen_ellipsis = False
    where = f"operand {term}" if term >= 0 else "the output"
    while i < len(text):
        ch = text[i]
        if ch == ".":
            if text[i : i + 3] != "..." or (i + 3 < len(text) and text[i + 3] == "."):
                raise ValueError(f"einsum: a '.' in {where} is not part of an ellipsis '...'")
            if seen_ellipsis:
                raise ValueError(f"einsum: more than one ellipsis '...' in {where}")
            seen_ellipsis = True
            out.append(_ELL)
            i += 3
        else:
            out.append(_letter_label(ch, term))
            i += 1
    return out


@lru_cache(maxsize=4096)
def _parse_string(subscripts: str):
    text = "".join(subscripts.split())
    if text.count("->") > 1:
        raise ValueError("einsum: '->' appears more than once in the subscripts")
    if "->" in text:
        lhs, rhs = text.split("->")
    else:
        lhs, rhs = text, None
    if ("-" in lhs or ">" in lhs) or (rhs is not None and ("-" in rhs or ">" in rhs)):
        raise ValueError("einsum: a '-' or '>' that is not part of one '->' in the subscripts")
    terms = tuple(tuple(_parse_term(t, k)) for k, t in enumerate(lhs.split(",")))
    if rhs is not None and "," in rhs:
        raise ValueError("einsum: the output subscripts contain a ','")
    output = None if rhs is None else tuple(_parse_term(rhs, -1))
    return terms, output


def _parse_sublist(sub, term: int) -> list:
    try:
        items = list(sub)
    except TypeError:
        raise TypeError(
            f"einsum: interleaved form expects a list of ints for operand {term}, got {sub!r}"
        ) from None
    out = []
    for s in items:
        if s is Ellipsis:
            if _ELL in out:
                raise ValueError(f"einsum: more than one ellipsis in the sublist of operand {term}")
            out.append(_ELL)
        elif isinstance(s, bool) or not isinstance(s, int) and not hasattr(s, "__index__"):
            raise TypeError(f"einsum: sublist entries must be ints or Ellipsis, got {s!r}")
        else:
            v = int(s.__index__())
            if v < 0:
                raise ValueError(f"einsum: sublist label {v} of operand {term} is negative")
            out.append(v)
    return out


def parse(args) -> tuple[tuple, object, list]:
    """Split ``einsum``'s positional arguments into (terms, output, operands).

    Accepts ``(subscripts, *operands)`` and the interleaved
    ``(op0, sublist0, op1, sublist1, ..., [output_sublist])``. Terms are tuples of labels
    (characters or ints) with ``Ellipsis`` for ``...``; output is None in implicit mode.
    """
    if not args:
        raise TypeError("einsum: no subscripts and no operands given")
    first = args[0]
    if isinstance(first, str):
        terms, output = _parse_string(first)
        operands = list(args[1:])
        if len(terms) != len(operands):
            raise ValueError(
                f"einsum: the subscripts {first!r} name {len(terms)} operand(s) but "
                f"{len(operands)} were given"
            )
        return terms, output, operands
    rest = list(args)
    output = None
    if len(rest) % 2 == 1:
        output = tuple(_parse_sublist(rest.pop(), -1))
    operands = rest[0::2]
    terms = tuple(tuple(_parse_sublist(s, k)) for k, s in enumerate(rest[1::2]))
    if not operands:
        raise ValueError("einsum: no operands given")
    return terms, output, operands

