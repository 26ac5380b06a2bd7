"""Sliced contractions (issue 12) on every array backend: the slices are views or lazy
pieces of the operands' library, the cotangents are added into their regions there
(``add_region``), and results and gradients stay in the operands' library and device."""

import numpy as np
import pytest
from _array_backends import check_array

import einsum_ad as ea
from einsum_ad.execute import slicing

# (subscripts, shapes, limit, forced widths or None): summed labels, output labels,
# a repeated label, and the finder's own choice
CASES = [
    ("ab,bc,cd,da->", [(4, 4)] * 4, 4, None),
    ("ij,jk->ik", [(6, 4), (4, 5)], 1, {"a": 2, "c": 1}),
    ("iij,jk->jk", [(6, 6, 5), (5, 4)], 1, {"a": 2, "b": 1}),
    ("ai,ibj,jc->abc", [(3, 4), (4, 2, 5), (5, 3)], 6, None),
]


@pytest.mark.parametrize("subscripts, shapes, limit, widths", CASES,
                         ids=[c[0] for c in CASES])
def test_sliced_on_every_backend(backend, subscripts, shapes, limit, widths, monkeypatch):
    if widths is not None:
        monkeypatch.setattr(slicing, "_find", lambda model, path, start, target, **kw:
                            ({**start, **widths}, "forced"))
    ea.clear_plan_cache()
    rng = np.random.default_rng(3)
    host = [rng.standard_normal(s) for s in shapes]
    ops = [backend.asarray(o) for o in host]
    f = lambda *xs: ea.einsum(subscripts, *xs, memory_limit=limit)
    check_array(backend, f(*ops), np.einsum(subscripts, *host))
    want = ea.grad(lambda *xs: ea.sum(ea.sin(ea.einsum(subscripts, *xs))),
                   argnums=tuple(range(len(host))))(*host)
    got = ea.grad(lambda *xs: ea.sum(ea.sin(f(*xs))), argnums=tuple(range(len(ops))))(*ops)
    for g, w in zip(got, want):
        check_array(backend, g, w, what="cotangent")
    if not backend.slow:
        ea.check_grads(f, ops, order=2, modes=("fwd", "rev"))
    ea.clear_plan_cache()
