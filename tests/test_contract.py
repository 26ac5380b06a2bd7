"""The execution layer: plans and their cache, the BLAS lowering of every step, checkpointing."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import einsum_ad as ea
from einsum_ad import execute as contract
from einsum_ad.execute import lowering
from einsum_ad.execute.lowering import Spread, lower
from einsum_ad.spec import Spec, normalize, parse


def _spec(subscripts, *shapes):
    terms, output, _ = parse((subscripts,) + tuple(np.empty(s) for s in shapes))
    return normalize(terms, output, shapes)


def _arrays(rng, shapes, dtype=np.float64):
    out = []
    for s in shapes:
        x = rng.standard_normal(s)
        if np.dtype(dtype).kind == "c":
            x = x + 1j * rng.standard_normal(s)
        out.append(x.astype(dtype) if np.dtype(dtype).kind in "fc"
                   else (3 * x).astype(dtype))
    return out


# (subscripts, shapes, expected kind of the only step, or None for multi-step)
CASES = [
    ("ij,jk->ik", [(3, 4), (4, 5)], "BLAS GEMM"),
    ("ij,kj->ik", [(3, 4), (5, 4)], "BLAS GEMM"),
    ("ji,jk->ki", [(4, 3), (4, 5)], "BLAS GEMM"),
    ("ij,jk->ki", [(3, 4), (4, 5)], "BLAS GEMM"),
    ("bhqd,bhkd->bhqk", [(2, 3, 5, 4), (2, 3, 6, 4)], "batched GEMM"),
    ("bhqk,bhkd->bhqd", [(2, 3, 5, 6), (2, 3, 6, 4)], "batched GEMM"),
    ("qbhd,kbhd->bhqk", [(5, 2, 3, 4), (6, 2, 3, 4)], "batched GEMM"),
    ("bij,bjk->kbi", [(2, 3, 4), (2, 4, 5)], "batched GEMM"),
    ("ij,j->i", [(3, 4), (4,)], "BLAS GEMM"),
    ("j,jk->k", [(4,), (4, 5)], "BLAS GEMM"),
    ("i,i->", [(7,), (7,)], "BLAS GEMM"),
    ("ij,ij->", [(3, 4), (3, 4)], "BLAS GEMM"),
    ("ij,ij->i", [(3, 4), (3, 4)], "batched dot (numpy einsum)"),
    ("ij,ij->ij", [(3, 4), (3, 4)], "elementwise"),
    ("ij,ji->ij", [(3, 4), (4, 3)], "elementwise"),
    ("i,j->ij", [(3,), (4,)], "outer"),
    ("i,j->ji", [(3,), (4,)], "outer"),
    ("bi,bj->bij", [(2, 3), (2, 4)], "outer"),
    (",ij->ij", [(), (3, 4)], "outer"),
    (",->", [(), ()], "elementwise"),
    ("ijk,jl->li", [(2, 3, 4), (3, 5)], "BLAS GEMM"),  # k summed first
    ("ij,kl->", [(2, 3), (4, 5)], "elementwise"),  # everything summed first
    ("ii,ij->j", [(3, 3), (3, 4)], "BLAS GEMM"),  # diagonal view first
    ("iij,jk->ik", [(3, 3, 4), (4, 2)], "BLAS GEMM"),
    ("iji,jj->i", [(3, 4, 3), (4, 4)], "BLAS GEMM"),
    ("iji,ij->i", [(3, 4, 3), (3, 4)], "batched dot (numpy einsum)"),
    ("ij,jk->ik", [(3, 0), (0, 5)], "BLAS GEMM"),
    ("bij,bjk->bik", [(0, 3, 4), (0, 4, 5)], "BLAS GEMM"),
    ("ij,jk->ik", [(0, 4), (4, 5)], "BLAS GEMM"),
    ("ii->i", [(4, 4)], "transpose/view"),
    ("ij->ji", [(3, 4)], "transpose/view"),
    ("iij->ji", [(3, 3, 4)], "transpose/view"),
    ("ijk->ki", [(2, 3, 4)], "reduction"),
    ("ii->", [(4, 4)], "reduction"),
    ("ij->", [(0, 4)], "reduction"),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)], None),
    ("ab,bc,cd,da->", [(3, 4), (4, 5), (5, 2), (2, 3)], None),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)], None),
]


@pytest.mark.parametrize("subscripts,shapes,kind", CASES)
def test_steps_equal_numpy_einsum(subscripts, shapes, kind):
    rng = np.random.default_rng(0)
    arrays = _arrays(rng, shapes)
    expected = np.einsum(subscripts, *arrays)
    got = ea.einsum(subscripts, *arrays)
    assert np.shape(got) == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    if kind is not None:
        spec = _spec(subscripts, *shapes)
        (step,) = contract.plan(spec, shapes).steps
        assert step.run.kind == kind


@pytest.mark.parametrize("dtype", [np.float32, np.complex128, np.int32, np.int8, np.bool_])
@pytest.mark.parametrize("subscripts,shapes", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->i", [(3, 4), (3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ijk->ki", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(3, 4), (4, 5), (5, 2)]),
])
def test_dtypes_match_numpy_einsum(subscripts, shapes, dtype):
    arrays = _arrays(np.random.default_rng(1), shapes, dtype)
    expected = np.einsum(subscripts, *arrays)
    got = ea.einsum(subscripts, *arrays)
    assert np.asarray(got).dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_mixed_dtypes_promote_like_numpy():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 2), np.float64)
    assert ea.einsum("ij,jk->ik", a, b).dtype == np.einsum("ij,jk->ik", a, b).dtype


def test_non_contiguous_operands():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((6, 8, 4))[::2, :, 1:]
    b = rng.standard_normal((3, 4, 5)).transpose(0, 2, 1)[:, :, :3]
    np.testing.assert_allclose(ea.einsum("bij,bkj->bik", a, b),
                               np.einsum("bij,bkj->bik", a, b), rtol=1e-12)


def test_more_than_52_labels_pairwise():
    rng = np.random.default_rng(3)
    # a chain of 60 2x2 matrices: 61 labels in all, at most three per step
    mats = [rng.standard_normal((2, 2)) for _ in range(60)]
    args = []
    for i, m in enumerate(mats):
        args += [m, [i, i + 1]]
    got = ea.einsum(*args, [0, 60])
    expected = mats[0]
    for m in mats[1:]:
        expected = expected @ m
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_more_than_52_labels_in_one_pairwise_step():
    # 30 + 30 batch-free labels in one outer-product step: matmul needs no letters
    rng = np.random.default_rng(4)
    a = rng.standard_normal((1,) * 29 + (2,))
    b = rng.standard_normal((1,) * 29 + (3,))
    got = ea.einsum(a, list(range(30)), b, list(range(30, 60)), list(range(60)))
    assert got.shape == a.shape + b.shape
    np.testing.assert_allclose(got.ravel(), np.outer(a.ravel(), b.ravel()).ravel())


LABELS = "abcdefg"


@st.composite
def pairwise_specs(draw):
    """Two operands whose labels are batch, contracted, free, summed-only or repeated."""
    sizes = {lab: draw(st.integers(0 if lab == "g" else 1, 3)) for lab in LABELS}
    a = draw(st.lists(st.sampled_from(LABELS), min_size=0, max_size=4))
    b = draw(st.lists(st.sampled_from(LABELS), min_size=0, max_size=4))
    present = sorted(set(a) | set(b))
    out = draw(st.permutations(present)) if present else []
    out = [lab for lab in out if draw(st.booleans())]
    spec = f"{''.join(a)},{''.join(b)}->{''.join(out)}"
    return spec, [tuple(sizes[x] for x in a), tuple(sizes[x] for x in b)]


@settings(max_examples=150, deadline=None)
@given(pairwise_specs(), st.booleans())
def test_random_pairwise_steps_equal_numpy(case, transposed):
    subscripts, shapes = case
    rng = np.random.default_rng(5)
    arrays = _arrays(rng, shapes)
    if transposed:  # non-contiguous operands, same subscripts
        arrays = [x.T.copy().T for x in arrays]
    expected = np.einsum(subscripts, *arrays)
    np.testing.assert_allclose(ea.einsum(subscripts, *arrays), expected, rtol=1e-10,
                               atol=1e-12)
    spec = _spec(subscripts, *shapes)
    np.testing.assert_allclose(lower(spec, shapes)(*arrays), expected, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------- plan cache


def test_plan_cache_key_distinguishes_shapes_dtypes_and_optimizer():
    ea.clear_plan_cache()
    spec = _spec("ij,jk->ik", (2, 3), (3, 4))
    f64 = (np.dtype(np.float64),) * 2
    p1 = contract.plan(spec, [(2, 3), (3, 4)], f64, "auto")
    assert contract.plan(spec, [(2, 3), (3, 4)], f64, "auto") is p1
    assert contract.plan(spec, [(2, 3), (3, 4)], f64, True) is p1  # True means "auto"
    assert ea.plan_cache_info()["hits"] == 2
    others = [
        contract.plan(spec, [(2, 3), (3, 5)], f64, "auto"),
        contract.plan(spec, [(2, 3), (3, 4)], (np.dtype(np.float32),) * 2, "auto"),
        contract.plan(spec, [(2, 3), (3, 4)], f64, "greedy"),
        contract.plan(spec, [(2, 3), (3, 4)], f64, [(0, 1)]),
    ]
    assert all(o is not p1 for o in others)
    info = ea.plan_cache_info()
    assert info["misses"] == 5 and info["size"] == 5


def test_equivalent_subscripts_share_a_plan():
    ea.clear_plan_cache()
    a, b = np.ones((2, 3)), np.ones((3, 4))
    ea.einsum("ij,jk->ik", a, b)
    ea.einsum("xy,yz->xz", a, b)
    ea.einsum("ij,jk", a, b)
    info = ea.plan_cache_info()
    assert (info["misses"], info["hits"], info["size"]) == (1, 2, 1)


def test_plan_cache_is_bounded_lru():
    ea.clear_plan_cache()
    try:
        ea.set_plan_cache_size(3)
        for n in range(2, 7):
            ea.einsum("ij,jk->ik", np.ones((2, n)), np.ones((n, 2)))
        assert ea.plan_cache_info()["size"] == 3
        ea.einsum("ij,jk->ik", np.ones((2, 6)), np.ones((6, 2)))  # most recent: a hit
        assert ea.plan_cache_info()["hits"] == 1
        ea.einsum("ij,jk->ik", np.ones((2, 2)), np.ones((2, 2)))  # evicted: a miss
        assert ea.plan_cache_info()["misses"] == 6
        with pytest.raises(ValueError, match="at least 1"):
            ea.set_plan_cache_size(0)
    finally:
        ea.set_plan_cache_size(1024)
    ea.clear_plan_cache()
    assert ea.plan_cache_info() == {"hits": 0, "misses": 0, "size": 0, "maxsize": 1024}


def test_plan_cache_is_thread_safe():
    ea.clear_plan_cache()
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(50):
                n = int(rng.integers(1, 6))
                a, b = rng.standard_normal((2, n)), rng.standard_normal((n, 3))
                np.testing.assert_allclose(ea.einsum("ij,jk->ik", a, b), a @ b)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    info = ea.plan_cache_info()
    assert info["size"] == 5 and info["hits"] + info["misses"] == 200


def test_plan_holds_lowered_steps_and_adjoints():
    spec = _spec("ab,bc,cd->ad", (2, 3), (3, 4), (4, 5))
    p = contract.plan(spec, [(2, 3), (3, 4), (4, 5)])
    assert len(p.steps) == 2
    for step in p.steps:
        assert step.run.kind == "BLAS GEMM"
        assert len(step.adjoints) == 2
        for adj in step.adjoints:
            assert adj.run.kind in ("BLAS GEMM", "outer")
    assert p.steps[-1].shape == (2, 5)


def test_invalid_path_and_optimizer():
    a = np.ones((2, 2))
    with pytest.raises(ValueError, match="path"):
        ea.einsum("ij,jk,kl->il", a, a, a, optimize=[(0, 5)])
    with pytest.raises(ValueError, match="optimize"):
        ea.einsum("ij,jk,kl->il", a, a, a, optimize="no-such-optimizer")


# ------------------------------------------------------------------- checkpointing


RING = "ab,bcx,cdy,dez,ea->xyz"


def _ring_operands(rng):
    return [rng.standard_normal(s) for s in [(3, 4), (4, 5, 2), (5, 3, 2), (3, 4, 2), (4, 3)]]


def test_checkpoint_gives_identical_gradients():
    rng = np.random.default_rng(6)
    ops = _ring_operands(rng)
    u = rng.standard_normal((2, 2, 2))

    def f(checkpoint):
        return lambda *xs: ea.einsum(RING, *xs, checkpoint=checkpoint)

    out0, vjp0 = ea.vjp(f(False), *ops)
    out1, vjp1 = ea.vjp(f(True), *ops)
    np.testing.assert_array_equal(out0, out1)
    for g0, g1 in zip(vjp0(u), vjp1(u)):
        np.testing.assert_array_equal(g0, g1)


def test_checkpoint_differentiates_twice():
    rng = np.random.default_rng(7)
    ops = _ring_operands(rng)
    v = rng.standard_normal(ops[0].shape)

    def hvp(checkpoint):
        def loss(a):
            y = ea.einsum(RING, a, *ops[1:], checkpoint=checkpoint)
            return ea.einsum("xyz,xyz->", y, y)
        return ea.grad(lambda a: ea.einsum("ab,ab->", ea.grad(loss)(a), v))(ops[0])

    np.testing.assert_allclose(hvp(True), hvp(False), rtol=1e-12)
    ea.check_grads(lambda a: ea.einsum(RING, a, *ops[1:], checkpoint=True), (ops[0],), order=2)


# ---------------------------------------------------------------- fast-path equivalences


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_fast_path_is_bit_identical_to_numpy(dtype):
    from einsum_ad.backend.numpy import _where as _where_impl
    rng = np.random.default_rng(8)
    c = rng.random((64, 100)) > 0.5
    x = rng.standard_normal((64, 100)).astype(dtype)
    x[0, :4] = [np.inf, -np.inf, np.nan, -0.0]
    for y in (np.zeros((), dtype), np.asarray(-0.0, dtype), rng.standard_normal(x.shape)
              .astype(dtype)):
        got, want = _where_impl(c, x, y), np.where(c, x, y)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_spread_broadcasts_and_writes_diagonals_without_masks():
    s = Spread(Spec(("b",), "ab"), (3, 4))
    x = np.arange(4.0)
    np.testing.assert_array_equal(s(x), np.broadcast_to(x, (3, 4)))
    assert not s(x).flags.writeable
    d = Spread(Spec(("a",), "aab"), (3, 3, 2))(np.array([1.0, np.inf, 3.0]))
    want = np.zeros((3, 3, 2))
    for i, v in enumerate([1.0, np.inf, 3.0]):
        want[i, i] = v
    np.testing.assert_array_equal(d, want)  # inf stays inf, zeros stay zeros (no NaN)
    t = Spread(Spec(("ba",), "ab"), (2, 3))(np.ones((3, 2)).T.T)
    assert t.shape == (2, 3)


# An operand of 32768+ elements whose layout would need a copy is instead split into a
# batch of GEMMs: broadcast against the other operand, or batched over an outer contracted
# label and summed after. Results must not depend on it, whatever the runtime layout.
SPLIT_CASES = [
    ("bi,oij->boj", [(10, 32), (16, 32, 64)], "batched GEMM (broadcast)"),
    ("ib,oij->ojb", [(32, 9), (16, 32, 64)], "batched GEMM (broadcast)"),
    ("ib,oij->ojb", [(32, 6), (16, 32, 64)], "BLAS GEMM"),  # skinny: copy instead
    ("oij,bi->ojb", [(16, 32, 64), (9, 32)], "batched GEMM (broadcast)"),
    ("xy,aybc->cxab", [(16, 32), (8, 32, 16, 12)], "batched GEMM (broadcast)"),
    ("acd,cbd->ab", [(12, 16, 32), (16, 64, 32)], "batched GEMM + sum"),
    ("cbd,acd->ba", [(16, 64, 32), (12, 16, 32)], "batched GEMM + sum"),
    ("xcyd,cbd->bxy", [(4, 16, 8, 32), (16, 64, 32)], "batched GEMM + sum"),
]


@pytest.mark.parametrize("layout", ["contiguous", "transposed", "int64"])
@pytest.mark.parametrize("subscripts,shapes,kind", SPLIT_CASES)
def test_large_operands_split_instead_of_copied(subscripts, shapes, kind, layout, monkeypatch):
    # the batch-then-sum split starts at larger operands (2^20); lowered to 2^15 here so
    # that these small operands take it (lowered directly: the plan cache is not involved)
    monkeypatch.setattr(lowering, "_SUM_SPLIT_MIN", lowering._SPLIT_MIN)
    spec = _spec(subscripts, *shapes)
    run = lower(spec, shapes)
    assert run.kind == kind
    arrays = _arrays(np.random.default_rng(9), shapes,
                     np.int64 if layout == "int64" else np.float64)
    if layout == "transposed":
        arrays = [x.T.copy().T for x in arrays]
    expected = np.einsum(subscripts, *arrays)
    got = run(*arrays)
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert got.dtype == expected.dtype


def test_batch_then_sum_only_for_operands_of_a_million_elements():
    """Below 2^20 elements a layout copy and one GEMM beat a batch of GEMMs summed after."""
    shapes = [(12, 16, 32), (16, 64, 32)]
    assert lower(_spec("acd,cbd->ab", *shapes), shapes).kind == "BLAS GEMM"
    shapes = [(12, 64, 256), (64, 256, 256)]  # planned only: no arrays of this size
    assert lower(_spec("acd,cbd->ab", *shapes), shapes).kind == "batched GEMM + sum"


def test_backward_keeps_only_the_values_it_reads():
    from einsum_ad.rules.einsum import _needs
    shapes = [(2, 3), (3, 4), (4, 5)]
    spec = _spec("ab,bc,cd->ad", *shapes)
    p = contract.plan(spec, shapes, optimize=[(0, 1), (0, 1)])  # (op0 op1) -> t0; (op2 t0)
    read, keep, _ = _needs(p, 3, (0,))
    assert keep == frozenset() and read == {1, 2}  # t0 is not kept; op0 itself is not read
    read, keep, _ = _needs(p, 3, (2,))
    assert keep == {0} and read == {3}  # only t0 is needed (op0, op1 are let go)
    read, keep, _ = _needs(p, 3, (0, 1, 2))
    assert keep == {0} and read is None


def test_traced_backward_records_no_identity_contraction():
    """The adjoint of a sum or a trace is ``g`` itself: with a traced cotangent the backward
    records only the spread, not an einsum ``"->"`` that would copy ``g``."""
    x = np.arange(9.0).reshape(3, 3)
    for subscripts in ("ij->", "ii->"):
        graph = ea.make_graph(
            lambda x, g, s=subscripts: ea.vjp(lambda y: ea.einsum(s, y), x)[1](g), x, 2.0)
        forward, spread = graph.nodes  # the forward's einsum, then the backward's spread
        assert (forward.primitive, spread.primitive) == ("einsum", "spread")
        assert spread.inputs == (("input", 1),)  # g itself
    grad = ea.vjp(lambda y: ea.einsum("ii->", y), x)[1](np.float64(2.0))[0]
    np.testing.assert_array_equal(grad, 2.0 * np.eye(3))


@pytest.mark.parametrize("layout", ["contiguous", "fortran", "reversed", "offset", "strided",
                                    "read-only"])
def test_diagonal_views_on_every_layout(layout):
    """Repeated labels read a strided view (built on the buffer, or through as_strided when
    the operand has no plain buffer): equal to numpy's, never writeable."""
    base = np.arange(60.0).reshape(3, 4, 5)
    x = {"contiguous": base[:, :3, :3].copy(), "fortran": np.asfortranarray(base[:, :3, :3]),
         "reversed": base[::-1, :3, :3], "offset": base[1:, 1:, 2:],
         "strided": base[:, ::2, ::2][:, :2, :2],
         "read-only": base[:, :3, :3].copy()}[layout]
    if layout == "read-only":
        x.flags.writeable = False
    got = lower(_spec("aii->ai", x.shape), [x.shape])(x)
    np.testing.assert_array_equal(got, np.einsum("aii->ai", x))
    assert not got.flags.writeable
    np.testing.assert_array_equal(ea.einsum("aii->", x), np.einsum("aii->", x))
