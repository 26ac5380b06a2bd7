"""Pytrees: nested dicts, lists and tuples of leaves, flattened and rebuilt."""

from __future__ import annotations

__all__ = ["tree_flatten", "tree_unflatten", "tree_map", "tree_leaves", "tree_structure"]


class _Leaf:
    __slots__ = ()

    def __repr__(self):
        return "*"

    def __eq__(self, other):
        return isinstance(other, _Leaf)

    def __hash__(self):
        return 0


LEAF = _Leaf()


def tree_flatten(tree):
    """Return (leaves, treedef). Dicts are walked in sorted-key order; None is an empty node."""
    if not isinstance(tree, (dict, list, tuple)) and tree is not None:
        return [tree], LEAF  # a bare leaf: the common case of transforms, kept cheap
    leaves = []
    return leaves, _walk(tree, leaves)


# Module-level recursion (not a nested function referring to itself): a self-referencing
# closure is a reference cycle, which would keep the leaves (large arrays) alive until the
# garbage collector runs instead of freeing them at once.
def _walk(t, leaves):
    if isinstance(t, dict):
        keys = sorted(t)
        return ("dict", tuple(keys), tuple(_walk(t[k], leaves) for k in keys))
    if isinstance(t, tuple) and hasattr(t, "_fields"):  # namedtuple
        return ("namedtuple", type(t), tuple(_walk(c, leaves) for c in t))
    if isinstance(t, (list, tuple)):
        return (type(t).__name__, None, tuple(_walk(c, leaves) for c in t))
    if t is None:
        return ("none", None, ())
    leaves.append(t)
    return LEAF


_MISSING = object()


def tree_unflatten(treedef, leaves):
    """Rebuild the tree of ``treedef`` from ``leaves`` (in flatten order).

    Raises ValueError when ``leaves`` holds more or fewer leaves than the structure.
    """
    if treedef is LEAF and type(leaves) is list and len(leaves) == 1:
        return leaves[0]  # a bare leaf: the common case of transforms
    it = iter(leaves)
    out = _build(treedef, it)
    if next(it, _MISSING) is not _MISSING:
        raise ValueError("tree_unflatten: more leaves than the tree structure holds")
    return out


def _build(d, it):
    if d is LEAF or isinstance(d, _Leaf):
        leaf = next(it, _MISSING)
        if leaf is _MISSING:
            raise ValueError("tree_unflatten: fewer leaves than the tree structure holds")
        return leaf
    kind, aux, children = d
    if kind == "dict":
        return {k: _build(c, it) for k, c in zip(aux, children)}
    if kind == "namedtuple":
        return aux(*(_build(c, it) for c in children))
    if kind == "list":
        return [_build(c, it) for c in children]
    if kind == "tuple":
        return tuple(_build(c, it) for c in children)
    return None


def tree_leaves(tree):
    return tree_flatten(tree)[0]


def tree_structure(tree):
    return tree_flatten(tree)[1]


def tree_map(f, tree, *rest):
    """Apply ``f`` leafwise to ``tree`` (and the matching leaves of the trees in ``rest``)."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for r in rest:
        rl, rd = tree_flatten(r)
        if rd != treedef:
            raise ValueError(f"tree_map: tree structures differ: {treedef} vs {rd}")
        others.append(rl)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])
