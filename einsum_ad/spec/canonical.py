"""The canonical Spec of an einsum call: explicit, ellipsis expanded, labels renamed.

Pure string logic: shapes (tuples of ints) are read only to expand ``...`` and to resolve
size-1 broadcasting.

The canonical form of an einsum call is a :class:`Spec`:

* every operand's subscripts are written out, with ``...`` expanded to concrete labels
  for this call's shapes (right-aligned broadcasting, as numpy does);
* the output is explicit (implicit mode resolved the way numpy resolves it);
* labels are renamed in order of first appearance (``a``, ``b``, ...; after the 52 ASCII
  letters, the unicode symbols of :func:`opt_einsum.get_symbol`), so that ``"ij,jk"`` and
  ``"ab,bc->ac"`` share a spec, and more than 52 labels are representable;
* an axis of size 1 whose label has another size elsewhere (numpy broadcasts it) gets a
  fresh label of its own, which the operand then sums away. Broadcasting therefore needs
  no special case downstream: its adjoint is the "label only in this operand" case.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from opt_einsum import get_symbol

from .parse import ELLIPSIS as _ELL

__all__ = ["Spec", "normalize", "symbol", "label_sizes", "relabel"]


def symbol(i: int) -> str:
    """The i-th canonical label: ``a``..``z``, ``A``..``Z``, then unicode symbols."""
    return get_symbol(i)


@dataclass(frozen=True)
class Spec:
    """A canonical einsum: explicit input subscripts and explicit output subscripts.

    Each subscript is a string of single-character labels. A label may repeat inside an
    input (a diagonal); it never repeats in the output.
    """

    inputs: tuple[str, ...]
    output: str

    def __str__(self) -> str:
        return ",".join(self.inputs) + "->" + self.output

    def __hash__(self) -> int:
        # computed once: a Spec keys the plan cache on every einsum call (read back as a
        # plain attribute, the cheapest a Python-level __hash__ can be)
        try:
            return self._hash
        except AttributeError:
            h = hash((self.inputs, self.output))
            object.__setattr__(self, "_hash", h)
            return h

    def __getstate__(self):
        # str hashes differ between processes: a pickled Spec must not carry its hash
        return {"inputs": self.inputs, "output": self.output}

    @property
    def labels(self) -> str:
        """Every distinct label, in order of first appearance."""
        return "".join(dict.fromkeys("".join(self.inputs)))



def _sort_key(label):
    return (0, label) if isinstance(label, int) else (1, label)


def normalize(terms, output, shapes) -> Spec:
    """The canonical Spec of parsed ``terms``/``output`` for operands of ``shapes``.

    Raises ValueError naming the operand, label and sizes for a rank that does not match
    its subscripts, sizes that disagree, output labels that are missing from every input
    or repeated, and ellipsis dimensions that cannot be broadcast.
    """
    if type(terms) is tuple and (output is None or type(output) is tuple):
        try:  # the hot path: parsed strings and array shapes are hashable as they are
            return _normalize(terms, output, tuple(shapes))
        except TypeError:  # a list somewhere (interleaved form, list shapes)
            pass
    return _normalize(tuple(tuple(t) for t in terms), None if output is None else tuple(output),
                      tuple(tuple(int(d) for d in s) for s in shapes))


def _show(label) -> str:
    return repr(label) if isinstance(label, str) else str(label)


@lru_cache(maxsize=4096)
def _normalize(terms, output, shapes) -> Spec:
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} subscripts for {len(shapes)} operands")
    # 1. rank check and ellipsis width per operand
    ell_ndim = 0
    widths = []
    for k, (term, shape) in enumerate(zip(terms, shapes)):
        named = sum(1 for t in term if t is not _ELL)
        if _ELL in term:
            if len(shape) < named:
                raise ValueError(
                    f"einsum: operand {k} has {len(shape)} dimension(s) (shape {shape}) but its "
                    f"subscripts name {named} plus '...'"
                )
            widths.append(len(shape) - named)
            ell_ndim = max(ell_ndim, len(shape) - named)
        else:
            if len(shape) != named:
                raise ValueError(
                    f"einsum: operand {k} has {len(shape)} dimension(s) (shape {shape}) but its "
                    f"subscripts name {named}"
                )
            widths.append(0)
    # 2. expand ellipses into labels ("...", j) for j counted from the right
    ell_labels = [("...", j) for j in range(ell_ndim)]  # leftmost first
    expanded = []
    for term, w in zip(terms, widths):
        exp = []
        for t in term:
            if t is _ELL:
                exp.extend(ell_labels[ell_ndim - w :])
            else:
                exp.append(t)
        expanded.append(exp)
    # 3. sizes: a label's size is its non-1 size; 1 broadcasts against anything
    size: dict = {}
    where: dict = {}
    for k, (exp, shape) in enumerate(zip(expanded, shapes)):
        local: dict = {}
        for ax, (lab, d) in enumerate(zip(exp, shape)):
            if lab in local and local[lab] != d:
                raise ValueError(
                    f"einsum: operand {k} repeats label {_show(lab)} on axes of different sizes "
                    f"({local[lab]} != {d}); shape {shape}"
                )
            local[lab] = d
            if d != 1:
                prev = size.get(lab, 1)
                if prev != 1 and prev != d:
                    k0, ax0 = where[lab]
                    what = (f"ellipsis dimension {lab[1] - ell_ndim}"
                            if isinstance(lab, tuple) else f"label {_show(lab)}")
                    raise ValueError(
                        f"einsum: size mismatch for {what}: operand {k0} axis {ax0} has size "
                        f"{prev}, operand {k} axis {ax} has size {d} (shapes "
                        f"{shapes[k0]} and {shape})"
                    )
                size[lab] = d
                where[lab] = (k, ax)
            else:
                size.setdefault(lab, 1)
                where.setdefault(lab, (k, ax))
    # 4. explicit output
    if output is None:
        counts: dict = {}
        for exp in expanded:
            for lab in exp:
                if not isinstance(lab, tuple):
                    counts[lab] = counts.get(lab, 0) + 1
        out = list(ell_labels) + sorted((lab for lab, c in counts.items() if c == 1), key=_sort_key)
    else:
        out = []
        for t in output:
            if t is _ELL:
                out.extend(ell_labels)
            else:
                out.append(t)
        seen = set()
        for lab in out:
            if lab in seen:
                raise ValueError(f"einsum: output label {_show(lab)} appears more than once")
            seen.add(lab)
            if lab not in size:
                raise ValueError(
                    f"einsum: output label {_show(lab)} does not appear in any input"
                )
        # an explicit output without '...' sums the ellipsis dimensions, as numpy's
        # (unoptimised) einsum and JAX do: they are labels like any other, left out
    # 5. canonical relabelling, with fresh labels for broadcast size-1 axes
    names: dict = {}
    counter = [0]

    def fresh():
        s = symbol(counter[0])
        counter[0] += 1
        return s

    inputs = []
    for exp, shape in zip(expanded, shapes):
        sub = []
        for lab, d in zip(exp, shape):
            if d == 1 and size[lab] != 1:
                sub.append(fresh())  # broadcast axis: a label of its own, summed in place
            else:
                if lab not in names:
                    names[lab] = fresh()
                sub.append(names[lab])
        inputs.append("".join(sub))
    return Spec(tuple(inputs), "".join(names[lab] for lab in out))



def label_sizes(spec: Spec, shapes) -> dict:
    """Map each label of ``spec`` to its size for operands of ``shapes``."""
    sizes = {}
    for sub, shape in zip(spec.inputs, shapes):
        for lab, d in zip(sub, shape):
            sizes[lab] = d
    return sizes



def relabel(spec: Spec) -> Spec:
    """Rename ``spec``'s labels to ``a``, ``b``, ... in order of first appearance.

    Used per contraction step so that each step passed to numpy speaks in letters, whatever
    the labels of the whole expression (more than 52 in all is fine if a step uses at most 52).
    """
    names = {lab: symbol(i) for i, lab in enumerate(spec.labels)}
    return Spec(tuple("".join(names[c] for c in s) for s in spec.inputs),
                "".join(names[c] for c in spec.output))

