"""The normaliser and the adjoint-spec derivation: pure string logic, no arrays."""

import pytest

from einsum_ad.spec import Spec, adjoint, normalize, parse, relabel


def canon(subscripts, *shapes):
    terms, output, _ = parse((subscripts,) + (None,) * len(shapes))
    return str(normalize(terms, output, shapes))


def canon_interleaved(sublists, output, shapes):
    args = []
    for s in sublists:
        args += [None, s]
    if output is not None:
        args.append(output)
    terms, out, _ = parse(tuple(args))
    return str(normalize(terms, out, shapes))


@pytest.mark.parametrize("subscripts, shapes, expected", [
    ("ij,jk->ik", [(2, 3), (3, 4)], "ab,bc->ac"),
    ("ab,bc->ac", [(2, 3), (3, 4)], "ab,bc->ac"),            # same canonical spec
    ("ij,jk", [(2, 3), (3, 4)], "ab,bc->ac"),                # implicit: sorted singletons
    ("ba", [(2, 3)], "ab->ba"),                              # implicit transposes
    ("ii", [(3, 3)], "aa->"),                                # implicit trace
    ("ii->i", [(3, 3)], "aa->a"),
    ("iij->j", [(2, 2, 3)], "aab->b"),
    ("ij->i", [(2, 3)], "ab->a"),
    ("aB", [(2, 3)], "ab->ba"),                              # ASCII order: 'B' < 'a'
    (" i j -> j i ", [(2, 3)], "ab->ba"),                    # spaces ignored, as numpy
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)], "abcd,edf->aecf"),  # broadcast size-1 ellipsis
    ("...ij,...jk->...ik", [(3, 4), (4, 2)], "ab,bc->ac"),   # empty ellipsis
    ("ij,jk->ik", [(2, 1), (3, 4)], "ab,cd->ad"),            # size-1 named index broadcasts
    ("i,i->", [(1,), (0,)], "a,b->"),                        # 1 broadcasts against 0
    ("i,i->i", [(0,), (0,)], "a,a->a"),                      # size 0
    ("...,...", [(), (2,)], ",a->a"),                        # scalar and ellipsis
    (",", [(), ()], ",->"),                                  # two scalars
    ("", [()], "->"),
    ("i...->...", [(2, 3, 4)], "abc->bc"),
    ("...i->i", [(2,)], "a->a"),
])
def test_normalize_table(subscripts, shapes, expected):
    assert canon(subscripts, *shapes) == expected


def test_normalize_interleaved_matches_string_form():
    assert canon_interleaved([[0, 1], [1, 2]], [0, 2], [(2, 3), (3, 4)]) == "ab,bc->ac"
    assert canon_interleaved([[0, 1], [1, 2]], None, [(2, 3), (3, 4)]) == "ab,bc->ac"
    assert canon_interleaved([[Ellipsis, 1], [1, 2]], None, [(5, 2, 3), (3, 4)]) == "abc,cd->abd"


def test_normalize_interleaved_sorts_numerically():
    # implicit output sorts labels as numbers: 10 after 9
    assert canon_interleaved([[10, 9]], None, [(2, 3)]) == "ab->ba"


def test_normalize_more_than_52_labels():
    n = 60
    spec = canon_interleaved([[i, i + 1] for i in range(n)], [0, n], [(2, 2)] * n)
    ins, out = spec.split("->")
    assert len(set(ins.replace(",", ""))) == n + 1
    assert len(out) == 2


def test_relabel_is_local_to_a_spec():
    spec = Spec(("\u00e0\u00e1", "\u00e1\u00e2"), "\u00e0\u00e2")
    assert str(relabel(spec)) == "ab,bc->ac"


@pytest.mark.parametrize("subscripts, shapes, match", [
    ("ij,jk->ik", [(2, 3), (4, 5)], r"size mismatch for label 'j'.*operand 0 axis 1 has size 3"),
    ("ij,jk->ik", [(2, 3)], r"name 2 operand\(s\) but 1 were given"),
    ("ij->k", [(2, 3)], r"output label 'k' does not appear"),
    ("ij->ii", [(2, 3)], r"output label 'i' appears more than once"),
    ("i3", [(2, 3)], r"invalid subscript '3' in operand 0"),
    ("ij->i->j", [(2, 3)], r"'->' appears more than once"),
    ("ij-j", [(2, 3)], r"'-' or '>'"),
    ("i..j", [(2, 3)], r"not part of an ellipsis"),
    ("i...j...", [(2, 3)], r"more than one ellipsis"),
    ("....", [(2, 3)], r"not part of an ellipsis"),
    ("ij", [(2, 3, 4)], r"operand 0 has 3 dimension\(s\).*name 2"),
    ("ijk", [(2, 3)], r"operand 0 has 2 dimension\(s\).*name 3"),
    ("ii", [(1, 3)], r"repeats label 'i' on axes of different sizes \(1 != 3\)"),
    ("...i,...i", [(2, 3), (4, 3)], r"ellipsis dimension -1.*size 2.*size 4"),
    ("ij,jk->ik,", [(2, 3), (3, 4)], r"output subscripts contain a ','"),
])
def test_normalize_errors(subscripts, shapes, match):
    with pytest.raises(ValueError, match=match):
        canon(subscripts, *shapes)


def test_interleaved_errors():
    with pytest.raises(ValueError, match="negative"):
        parse((None, [0, -1]))
    with pytest.raises(TypeError, match="ints or Ellipsis"):
        parse((None, [0, "a"]))
    with pytest.raises(TypeError, match="list of ints"):
        parse((None, 3))


# ------------------------------------------------------------------- adjoint specs


def adj(subscripts, k, *shapes):
    terms, output, _ = parse((subscripts,) + (None,) * len(shapes))
    a = adjoint(normalize(terms, output, shapes), k)
    return str(a.contraction), (None if a.spread is None else str(a.spread)), a.others


@pytest.mark.parametrize("subscripts, k, shapes, contraction, spread, others", [
    # z = W x: dW = v x^T
    ("ij,j->i", 0, [(2, 3), (3,)], "a,b->ab", None, (1,)),
    ("ij,j->i", 1, [(2, 3), (3,)], "a,ab->b", None, (0,)),
    # bilinear: every operand's adjoint contracts the others
    ("i,ij,j->", 1, [(2,), (2, 3), (3,)], ",a,b->ab", None, (0, 2)),
    # label only in operand k: contract to the rest, then broadcast (spread)
    ("ij->i", 0, [(2, 3)], "a->a", "a->ab", ()),
    ("ij,jk->i", 1, [(2, 3), (3, 4)], "a,ab->b", "b->bc", (0,)),
    # repeated index: computed once, then written onto the diagonal
    ("ii->", 0, [(3, 3)], "->", "->aa", ()),
    ("ii->i", 0, [(3, 3)], "a->a", "a->aa", ()),
    ("iij->j", 0, [(2, 2, 3)], "b->b", "b->aab", ()),
    ("iji->j", 0, [(2, 3, 2)], "b->b", "b->aba", ()),       # repeated pair not trailing
    ("ii,i->i", 0, [(3, 3), (3,)], "a,a->a", "a->aa", (1,)),
    # a broadcast size-1 axis has its own label: summed back by the spread
    ("ij,jk->ik", 0, [(2, 1), (3, 4)], "ad,cd->a", "a->ab", (1,)),
    # transposed output
    ("ij->ji", 0, [(2, 3)], "ba->ab", None, ()),
    # same operand twice: each slot its own adjoint (the graph accumulates)
    ("i,i->", 0, [(3,), (3,)], ",a->a", None, (1,)),
])
def test_adjoint_table(subscripts, k, shapes, contraction, spread, others):
    assert adj(subscripts, k, *shapes) == (contraction, spread, others)


def test_adjoint_of_adjoint_returns_to_the_operand_labels():
    # the adjoint contraction's own adjoint w.r.t. the cotangent slot has the output's labels
    terms, output, _ = parse(("bhqd,bhkd->bhqk", None, None))
    spec = normalize(terms, output, [(2, 3, 4, 5), (2, 3, 6, 5)])
    a = adjoint(spec, 0)
    back = adjoint(a.contraction, 0)
    assert back.contraction.output == spec.output
    assert back.spread is None
