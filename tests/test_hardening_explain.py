"""Issue 9, explain's report: specs in the caller's own labels next to the canonical ones,
and counts in the singular when there is one."""

import pytest

import einsum_ad as ea


@pytest.mark.parametrize("subscripts, shapes, line", [
    # the seed's example: z = W x, the cotangent of W is v xᵀ
    ("ij,j->i", [(3, 4), (4,)], 'operand 0 (ij): einsum("i,j->ij", g, op1)'),
    ("ij,j->i", [(3, 4), (4,)], 'operand 1 (j): einsum("i,ij->j", g, op0)'),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4)] * 2, 'operand 1 (bhkd): einsum("bhqk,bhqd->bhkd", g, op0)'),
    ("ij->i", [(3, 4)], 'operand 0 (ij): einsum("i->i", g), broadcast along j to ij'),
    ("ii->", [(3, 3)], 'operand 0 (ii): einsum("->", g), written onto the diagonal of i to ii'),
    ("...ij,...jk->...ik", [(5, 3, 4), (5, 4, 2)], "in your labels: aij,ajk->aik  (b=i, c=j, d=k)"),
    ("...ij,...jk->...ik", [(5, 3, 4), (5, 4, 2)], "(a: the dimensions under '...'"),
    ("i,i->i", [(1,), (3,)], "in your labels: a,i->i  (b=i)"),
    ("i,i->i", [(1,), (3,)], "(a: size-1 axes broadcast against larger ones"),
    ("ij,jk", [(2, 3), (3, 4)], "in your labels: ij,jk->ik"),
])
def test_explain_shows_specs_in_the_callers_labels(subscripts, shapes, line):
    """The report spoke in canonical labels only: for "ij,j->i" the cotangent of W read
    "a,b->ab", not the caller's "i,j->ij" (v xᵀ)."""
    text = str(ea.explain(subscripts, *shapes))
    assert line in text, text


def test_explain_steps_carry_both_spellings_and_canonical_lines_stay():
    e = ea.explain("ij,j->i", (3, 4), (4,))
    text = str(e)
    assert "  canonical spec: ab,b->a" in text
    assert "g_out, op1 -> g_op0: a,b->ab = i,j->ij  [outer]" in text
    assert "operand 0 (ab): 12 / 12" in text
    assert e.in_caller_labels(e.backward[0].spec) == "i,j->ij"
    assert dict((c, m) for c, m, _ in e.labels) == {"a": "i", "b": "j"}


def test_explain_keeps_canonical_labels_when_they_are_the_callers():
    e = ea.explain("ab,bc->ac", (2, 3), (3, 4))
    assert e.labels == () and "in your labels" not in str(e)
    assert "ab,bc->ac = " not in str(e)


def test_explain_keeps_canonical_labels_when_no_letters_are_left():
    """52 letters written and an ellipsis dimension more: no letter left to name it."""
    import string

    letters = string.ascii_letters
    subscripts = "..." + letters + "->..." + letters
    e = ea.explain(subscripts, (2,) + (1,) * 52)
    assert e.labels == ()


@pytest.mark.parametrize("subscripts, shapes, singular", [
    ("i->", [(1,)], "result 1 element (8 B)"),
    ("i->", [(1,)], "largest intermediate: 1 element (8 B)"),
    ("i->", [(1,)], "1 FLOP, result"),
])
def test_explain_counts_one_in_the_singular(subscripts, shapes, singular):
    """The report said "1 elements"."""
    text = str(ea.explain(subscripts, *shapes))
    assert singular in text and "1 elements" not in text and " 1 FLOPs" not in text
