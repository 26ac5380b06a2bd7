"""explain(): the report's steps, kinds and FLOPs, and the backward's cost against the forward's."""

import argparse
import importlib

import numpy as np
import pytest

import einsum_ad as ea

explain_mod = importlib.import_module("einsum_ad.explain")  # ea.explain is the function


def _ring(n, bond=4, phys=2):
    s = "abcdefghijklmnopqrstuvwxyz"
    subs = [s[i] + s[n + i] + s[(i + 1) % n] for i in range(n)]
    return ",".join(subs) + "->" + s[n:2 * n], [(bond, phys, bond)] * n


NETWORKS = [
    ("chain", "ab,bc,cd,de,ef,fg->ag", [(8, 16), (16, 32), (32, 8), (8, 64), (64, 4), (4, 16)]),
    ("ring", *_ring(8)),
    ("mps", "aib,bjc,ckd,dle,emf,i,j,k,l,m->ae",
     [(1, 3, 6), (6, 3, 6), (6, 3, 6), (6, 3, 6), (6, 3, 1)] + [(3,)] * 5),
    ("grid", "ag,abh,bi,cgj,cdhk,dil,ej,efk,fl->", [(5,) * len(s) for s in
                                                    "ag,abh,bi,cgj,cdhk,dil,ej,efk,fl".split(",")]),
]


@pytest.mark.parametrize("name,subscripts,shapes", NETWORKS)
def test_backward_costs_at_most_twice_the_forward(name, subscripts, shapes):
    e = ea.explain(subscripts, *shapes)
    assert len(e.forward) == len(shapes) - 1
    assert e.flops_forward + e.flops_backward <= 3 * e.flops_forward
    # every operand's path is no dearer than its adjoint computed alone, and the whole
    # backward is cheaper than the per-operand scheme
    assert all(path <= alone for path, alone in e.per_operand)
    assert e.flops_backward < sum(alone for _, alone in e.per_operand)


def test_report_names_kinds_flops_and_speedup():
    e = ea.explain("bhqd,bhkd->bhqk", (8, 8, 256, 64), (8, 8, 256, 64))
    assert [r.kind for r in e.forward] == ["batched GEMM"]
    assert e.flops_forward == 8 * 8 * 256 * 256 * 64 * 2
    assert e.flops_backward == 2 * e.flops_forward
    text = str(e)
    for needle in ("canonical spec: abcd,abed->abce", "batched GEMM", "backward",
                   "operand 0 (abcd)", "forward+backward / forward = 3.00", "32.0 MiB",
                   "speed-up"):
        assert needle in text
    assert "Explanation(" in repr(e)


def test_kinds_of_steps():
    kinds = lambda *a: [r.kind for r in ea.explain(*a).forward]
    assert kinds("ij,jk->ik", (3, 4), (4, 5)) == ["BLAS GEMM"]
    assert kinds("ij,ij->ij", (3, 4), (3, 4)) == ["elementwise"]
    assert kinds("i,j->ij", (3,), (4,)) == ["outer"]
    assert kinds("ij->i", (3, 4)) == ["reduction"]
    assert kinds("ij->ji", (3, 4)) == ["transpose/view"]
    assert kinds("ii->i", (3, 3)) == ["transpose/view (+ diagonal view)"]
    assert kinds("ijk,jl->il", (2, 3, 4), (3, 5)) == ["BLAS GEMM (+ sum first)"]
    back = [r.kind for r in ea.explain("ij->i", (3, 4)).backward]
    assert back == ["transpose/view + spread"]


def test_chain_speedup_over_unoptimised_order():
    e = ea.explain("ab,bc,cd->ad", (100, 2), (2, 100), (100, 100))
    assert e.flops_naive == 100 * 2 * 100 * 100 * 3  # opt_einsum: 3 terms, inner product
    assert e.speedup > 10


def test_arrays_give_shapes_and_dtype():
    a = np.ones((3, 4), np.float32)
    e = ea.explain("ij,jk->ik", a, (4, 2))
    assert e.shapes == ((3, 4), (4, 2)) and e.dtype == np.float32


def test_bad_input():
    with pytest.raises(TypeError, match="operand 1"):
        ea.explain("ij,jk->ik", (3, 4), "nope")
    with pytest.raises(ValueError, match="size mismatch"):
        ea.explain("ij,jk->ik", (3, 4), (5, 2))
    with pytest.raises(TypeError, match="subscripts must be a string"):
        ea.explain(3, (3,))


def test_command_line_hooks(capsys):
    parser = argparse.ArgumentParser()
    explain_mod.add_arguments(parser)
    args = parser.parse_args(["bij,bjk->bik", "2,3,4", "2,4,5", "--optimize", "greedy"])
    assert explain_mod.run(args) == 0
    out = capsys.readouterr().out
    assert "batched GEMM" in out and "optimize='greedy'" in out
    args = parser.parse_args(["ij,jk->ik", "2,3", "4,5"])
    assert explain_mod.run(args) == 2
    assert "size mismatch" in capsys.readouterr().err
    args = parser.parse_args([",i->i", "-", "3"])
    assert explain_mod.run(args) == 0
