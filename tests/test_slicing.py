"""Sliced contractions (issue 12): ``einsum(..., memory_limit=N)`` against the unsliced node,
values and gradients to second order; output and repeated labels sliced; one slice; a limit
too small; limits as strings; executors; cotengra optimizers and trees; explain; peak memory
measured with tracemalloc."""

import string
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import execute
from einsum_ad.execute import slicing
from einsum_ad.explain import SlicingReport
from einsum_ad.spec import normalize, parse

F64 = np.dtype("float64")


def _spec(subscripts, shapes):
    terms, output, _ = parse((subscripts,) + tuple(shapes))
    return normalize(terms, output, shapes)


def _plan(subscripts, shapes, limit, optimize="auto", dtype=F64):
    return execute.sliced_plan(_spec(subscripts, shapes), shapes, [dtype] * len(shapes),
                               execute.sliced_key(optimize, limit))


@pytest.fixture(params=["cotengra", "greedy"])
def finder(request, monkeypatch):
    """Both slice finders: cotengra's (when installed) and ours."""
    if request.param == "cotengra":
        pytest.importorskip("cotengra")
    else:
        monkeypatch.setattr(slicing, "_cotengra", lambda: None)
    ea.clear_plan_cache()
    yield request.param
    ea.clear_plan_cache()


# (subscripts, shapes, limits): each limit forces a slicing (some of several labels)
NETWORKS = [
    ("ij,jk,kl->il", [(8, 6), (6, 7), (7, 5)], [10, 35]),
    ("ab,bc,cd,da->", [(4, 4)] * 4, [1, 8]),
    ("ai,ibj,jc->abc", [(3, 4), (4, 2, 5), (5, 3)], [2, 17]),
    ("iij,jk->ik", [(6, 6, 5), (5, 4)], [2, 6]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)], [3, 10]),
    ("bij,bjk->bik", [(4, 3, 5), (4, 5, 2)], [4, 12]),
    ("ij->ji", [(6, 4)], [4]),
    ("i,j->ij", [(6,), (8,)], [5]),
    ("ijk,jl->il", [(4, 3, 5), (3, 6)], [4]),
    ("ab,bc,ca->", [(3, 4), (4, 5), (5, 3)], [1]),
]
CASES = [(s, sh, lim) for s, sh, lims in NETWORKS for lim in lims]


def _ops(shapes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    ops = [rng.standard_normal(s) for s in shapes]
    if dtype == np.complex128:
        ops = [o + 1j * rng.standard_normal(o.shape) for o in ops]
    return ops


@pytest.mark.parametrize("subscripts, shapes, limit", CASES,
                         ids=[f"{s}@{lim}" for s, _, lim in CASES])
def test_sliced_values_and_gradients_equal_unsliced(subscripts, shapes, limit, finder):
    ops = _ops(shapes)
    p = _plan(subscripts, shapes, limit)
    assert p.forward.count > 1 and p.forward.cost.peak <= limit < p.unsliced.peak
    np.testing.assert_allclose(ea.einsum(subscripts, *ops, memory_limit=limit),
                               np.einsum(subscripts, *ops), rtol=1e-12, atol=1e-12)

    def loss(limit):
        return lambda *o: ea.sum(ea.sin(ea.einsum(subscripts, *o, memory_limit=limit)))

    argnums = tuple(range(len(ops)))
    got = ea.grad(loss(limit), argnums=argnums)(*ops)
    want = ea.grad(loss(None), argnums=argnums)(*ops)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    ea.check_grads(lambda *o: ea.einsum(subscripts, *o, memory_limit=limit), ops, order=2,
                   modes=("fwd", "rev"))


def test_second_derivatives_equal_unsliced():
    ops = _ops([(5, 4), (4, 6), (6, 5)], seed=3)

    def f(limit):
        return lambda a: ea.sum(ea.einsum("ij,jk,ki->i", a, *ops[1:], memory_limit=limit) ** 3)

    np.testing.assert_allclose(ea.hessian(f(4))(ops[0]), ea.hessian(f(None))(ops[0]),
                               rtol=1e-11, atol=1e-11)


def test_complex_operands():
    ops = _ops([(4, 5), (5, 6), (6, 4)], seed=1, dtype=np.complex128)
    np.testing.assert_allclose(ea.einsum("ij,jk,kl->il", *ops, memory_limit=8),
                               np.einsum("ij,jk,kl->il", *ops))
    ea.check_grads(lambda *o: ea.einsum("ij,jk,kl->il", *o, memory_limit=8), ops, order=1,
                   modes=("fwd", "rev"))


def _forced(monkeypatch, widths):
    """Make the finder cut exactly ``widths`` (canonical labels)."""
    monkeypatch.setattr(slicing, "_find", lambda model, path, start, target, **kw:
                        ({**start, **widths}, "forced"))
    ea.clear_plan_cache()


@pytest.mark.parametrize("subscripts, shapes, widths", [
    ("ij,jk->ik", [(6, 4), (4, 5)], {"a": 2, "c": 1}),            # both output labels
    ("ij,jk->ik", [(6, 4), (4, 5)], {"a": 3, "b": 2}),            # output and summed
    ("iij,jk->ik", [(6, 6, 5), (5, 4)], {"a": 2}),                # repeated, in the output
    ("iij,jk->jk", [(6, 6, 5), (5, 4)], {"a": 3}),                # repeated, summed
    ("iij,jk->jk", [(6, 6, 5), (5, 4)], {"a": 2, "b": 1}),        # repeated and shared
    ("iji->j", [(4, 3, 4)], {"a": 1}),                            # repeated, one operand
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)], {"a": 1}),  # a broadcast batch
], ids=["outputs", "output+summed", "repeated-out", "repeated-summed", "repeated+shared",
        "trace-like", "broadcast"])
def test_forced_slicings_of_output_and_repeated_labels(subscripts, shapes, widths,
                                                       monkeypatch):
    _forced(monkeypatch, widths)
    p = _plan(subscripts, shapes, 1)
    assert dict(zip(p.forward.labels, p.forward.widths)) == widths
    ops = _ops(shapes, seed=2)
    np.testing.assert_allclose(ea.einsum(subscripts, *ops, memory_limit=1),
                               np.einsum(subscripts, *ops), atol=1e-12)
    ea.check_grads(lambda *o: ea.einsum(subscripts, *o, memory_limit=1), ops, order=2,
                   modes=("fwd", "rev"))
    ea.clear_plan_cache()


def test_slice_count_of_one_is_the_plain_node():
    ops = _ops([(8, 6), (6, 7), (7, 5)])
    p = _plan("ij,jk,kl->il", [o.shape for o in ops], 10 ** 6)
    assert p.forward.count == 1 and p.forward.labels == ()
    assert slicing.backward_slicing(p) is p.forward
    got = ea.grad(lambda a: ea.sum(ea.einsum("ij,jk,kl->il", a, *ops[1:],
                                             memory_limit=10 ** 6)))(ops[0])
    np.testing.assert_allclose(got, np.einsum("jk,kl->j", *ops[1:])[None, :].repeat(8, 0))
    assert "slices: 1" in str(ea.explain("ij,jk,kl->il", *ops, memory_limit=10 ** 6))


def test_the_path_alone_may_reach_the_limit():
    # a chain whose default order has a 64x64 intermediate and another order none above 64
    shapes = [(64, 2), (2, 64), (64, 1)]
    p = _plan("ij,jk,kl->il", shapes, 64, optimize="greedy")
    assert p.forward.cost.peak <= 64 and p.forward.count == 1
    ops = _ops(shapes)
    np.testing.assert_allclose(ea.einsum("ij,jk,kl->il", *ops, memory_limit=64,
                                         optimize="greedy"), np.einsum("ij,jk,kl->il", *ops))


@pytest.mark.parametrize("limit", [0, "1B"])
def test_limit_too_small_names_the_smallest_feasible_limit(limit, monkeypatch):
    monkeypatch.setattr(slicing, "MAX_SLICES", 16)
    ea.clear_plan_cache()
    ops = _ops([(8, 6), (6, 7), (7, 5)])
    with pytest.raises(ValueError, match=r"too small to contract .* smallest feasible limit "
                                         r"is (\d+) elements") as info:
        ea.einsum("ij,jk,kl->il", *ops, memory_limit=limit)
    floor = int(info.value.args[0].split("limit is ")[1].split()[0])
    np.testing.assert_allclose(ea.einsum("ij,jk,kl->il", *ops, memory_limit=floor),
                               np.einsum("ij,jk,kl->il", *ops))
    if floor > 1:
        with pytest.raises(ValueError, match="smallest feasible"):
            ea.einsum("ij,jk,kl->il", *ops, memory_limit=floor - 1)
    ea.clear_plan_cache()


CHAIN = [(0, 1), (0, 4), (0, 3), (0, 2), (0, 1)]  # left to right: ab,bc -> ac; ac,cd -> ad ...


def test_the_backward_keeps_the_forward_slicing_when_a_finer_one_costs_too_much(
        monkeypatch):
    # a chain: one slice's backward holds every intermediate; with 4 slices at most, no
    # finer slicing is affordable, and the forward's is kept (explain says what it holds)
    monkeypatch.setattr(slicing, "MAX_SLICES", 4)
    ea.clear_plan_cache()
    shapes = [(4, 8)] + [(8, 8)] * 5
    sub = "ab,bc,cd,de,ef,fg->ag"
    ops = _ops(shapes)
    p = _plan(sub, shapes, 8, optimize=CHAIN)
    assert p.forward.count == 4 and p.forward.cost.held > slicing.WORKING_FACTOR * 8
    assert slicing.backward_slicing(p) is p.forward
    got = ea.grad(lambda a: ea.sum(ea.einsum(sub, a, *ops[1:], memory_limit=8,
                                             optimize=CHAIN)))(ops[0])
    np.testing.assert_allclose(got, ea.grad(lambda a: ea.sum(ea.einsum(sub, a, *ops[1:])))(
        ops[0]), rtol=1e-12)
    text = str(ea.explain(sub, *shapes, memory_limit=8, optimize=CHAIN))
    assert "backward: the same slicing" in text and "in its backward" in text
    ea.clear_plan_cache()


def test_backward_slices_finer_when_its_held_intermediates_do_not_fit():
    shapes = [(16, 8)] + [(8, 8)] * 5
    sub = "ab,bc,cd,de,ef,fg->ag"
    p = _plan(sub, shapes, 32, optimize=CHAIN)
    b = slicing.backward_slicing(p)
    bound = slicing.WORKING_FACTOR * 32
    assert p.forward.cost.held > bound >= b.cost.held and b.count > p.forward.count
    assert b.cost.flops <= slicing.REFINE_FLOPS * p.forward.cost.flops
    ops = _ops(shapes)
    got = ea.grad(lambda *o: ea.sum(ea.einsum(sub, *o, memory_limit=32,
                                              optimize=CHAIN)), argnums=(0, 3))(*ops)
    want = ea.grad(lambda *o: ea.sum(ea.einsum(sub, *o)), argnums=(0, 3))(*ops)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)


# ------------------------------------------------------------------ the limit's forms


@pytest.mark.parametrize("text, want", [
    ("2GiB", ("bytes", 2 << 30)), ("512 MB", ("bytes", 512 * 10 ** 6)),
    ("1.5kib", ("bytes", 1536)), ("100B", ("bytes", 100)), ("1e3kB", ("bytes", 10 ** 6)),
    (4096, 4096), (np.int64(7), 7), ("max_input", "max_input"), (None, None),
])
def test_limit_key_forms(text, want):
    assert execute.limit_key(text) == want


@pytest.mark.parametrize("bad, error, match", [
    (-1, ValueError, "at least 0"), ("2 GiBs", ValueError, "no size"),
    ("100", ValueError, "no size"), ("lots", ValueError, "no size"),
    (1.5, TypeError, "memory_limit must be"), (True, TypeError, "memory_limit must be"),
    ([1], TypeError, "memory_limit must be"),
])
def test_bad_limits_raise(bad, error, match):
    with pytest.raises(error, match=match):
        ea.einsum("ij,jk->ik", np.ones((2, 2)), np.ones((2, 2)), memory_limit=bad)


@pytest.mark.parametrize("dtype, limit", [(np.float64, "128B"), (np.float32, "64B"),
                                          (np.complex128, "256B")])
def test_a_limit_in_bytes_counts_elements_of_the_result_dtype(dtype, limit):
    shapes = [(8, 6), (6, 7), (7, 5)]
    p = _plan("ij,jk,kl->il", shapes, limit, dtype=np.dtype(dtype))
    assert p.limit == 16 and p.forward.cost.peak <= 16
    ops = [o.astype(dtype) for o in _ops(shapes)]
    np.testing.assert_allclose(ea.einsum("ij,jk,kl->il", *ops, memory_limit=limit),
                               np.einsum("ij,jk,kl->il", *ops), rtol=1e-5)


def test_max_input_is_the_largest_operand():
    shapes = [(8, 6), (6, 40), (40, 5)]
    p = _plan("ij,jk,kl->il", shapes, "max_input")
    assert p.limit == 240 and p.forward.cost.peak <= 240


def test_out_dtype_and_order_with_a_limit():
    ops = _ops([(6, 5), (5, 7)])
    out = np.empty((6, 7))
    ea.einsum("ij,jk->ik", *ops, out=out, memory_limit=8)
    np.testing.assert_allclose(out, ops[0] @ ops[1])
    r = ea.einsum("ij,jk->ik", *ops, memory_limit=8, order="F", dtype=np.float32,
                  casting="same_kind")
    assert r.dtype == np.float32 and r.flags.f_contiguous


def test_a_zero_size_contraction_needs_no_slicing():
    ops = [np.ones((0, 4)), np.ones((4, 3))]
    assert ea.einsum("ij,jk->ik", *ops, memory_limit=0).shape == (0, 3)
    assert float(ea.einsum("ij,jk->", *ops, memory_limit=1)) == 0.0


# ------------------------------------------------------------------ executors


SUB = "ab,bc,cd,da->ac"


def _executor_case():
    ops = _ops([(12, 12)] * 4, seed=5)
    want = ea.grad(lambda *o: ea.sum(ea.sin(ea.einsum(SUB, *o))), argnums=(0, 1, 2, 3))(*ops)
    return ops, want


def _check_executor(ex, second_order=True):
    ops, want = _executor_case()
    np.testing.assert_allclose(ea.einsum(SUB, *ops, memory_limit=24, executor=ex),
                               np.einsum(SUB, *ops), rtol=1e-12)
    got = ea.grad(lambda *o: ea.sum(ea.sin(ea.einsum(SUB, *o, memory_limit=24, executor=ex))),
                  argnums=(0, 1, 2, 3))(*ops)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-13)
    # a subset of the operands, and second order (traced slices are contracted here)
    got = ea.grad(lambda b: ea.sum(ea.einsum(SUB, ops[0], b, *ops[2:], memory_limit=24,
                                             executor=ex)))(ops[1])
    np.testing.assert_allclose(got, ea.grad(lambda b: ea.sum(ea.einsum(SUB, ops[0], b,
                                                                       *ops[2:])))(ops[1]))
    if second_order:
        ea.check_grads(lambda *o: ea.einsum(SUB, *o, memory_limit=24, executor=ex), ops,
                       order=2, modes=("fwd", "rev"))


def test_executor_thread_pool():
    calls = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, *args):
            calls.append(fn.__name__)
            return super().submit(fn, *args)

    with Counting(2) as ex:
        _check_executor(ex)
    count = _plan(SUB, [(12, 12)] * 4, 24).forward.count
    assert calls.count("contract_slice") >= count and "_slice_vjp" in calls


def test_executor_distributed_client():
    distributed = pytest.importorskip("distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=":0") as client:
        _check_executor(client, second_order=False)  # each task costs a few ms there


def test_executor_without_a_limit_runs_one_task():
    ops = _ops([(4, 4)] * 2)
    with ThreadPoolExecutor(1) as ex:
        np.testing.assert_allclose(ea.einsum("ij,jk->ik", *ops, executor=ex), ops[0] @ ops[1])


def test_executor_must_submit():
    with pytest.raises(TypeError, match="executor must have a submit"):
        ea.einsum("ij,jk->ik", np.ones((2, 2)), np.ones((2, 2)), executor=object())


# ------------------------------------------------------------------ cotengra


def test_cotengra_tree_keeps_its_slicing():
    ctg = pytest.importorskip("cotengra")
    shapes = [(6, 6, 5), (5, 4)]
    tree = ctg.ContractionTree.from_path([("x", "x", "y"), ("y", "z")], ("x", "z"),
                                         {"x": 6, "y": 5, "z": 4}, path=[(0, 1)])
    tree.remove_ind_("x")  # its own letters: x is the canonical label a
    ops = _ops(shapes)
    p = execute.sliced_plan(_spec("iij,jk->ik", shapes), shapes, [F64] * 2,
                            execute.optimize_key(tree))
    assert p.forward.labels == ("a",) and p.forward.count == 6
    np.testing.assert_allclose(ea.einsum("iij,jk->ik", *ops, optimize=tree),
                               np.einsum("iij,jk->ik", *ops))
    ea.check_grads(lambda *o: ea.einsum("iij,jk->ik", *o, optimize=tree), ops, order=2,
                   modes=("fwd", "rev"))
    with pytest.raises(ValueError, match="ContractionTree was made for 2 operand"):
        ea.einsum("ij,jk,kl->il", *_ops([(2, 2)] * 3), optimize=tree)


def test_cotengra_hyper_optimizer_keeps_its_slicing():
    ctg = pytest.importorskip("cotengra")
    opt = ctg.HyperOptimizer(slicing_opts={"target_size": 16}, max_repeats=4,
                             methods=["greedy"], progbar=False, parallel=False,
                             optlib="random")
    ops = _ops([(16, 16)] * 4)
    p = execute.sliced_plan(_spec(SUB, [(16, 16)] * 4), [(16, 16)] * 4, [F64] * 4,
                            execute.optimize_key(opt))
    assert p.forward.count > 1 and p.forward.finder == "cotengra" and p.given
    np.testing.assert_allclose(ea.einsum(SUB, *ops, optimize=opt), np.einsum(SUB, *ops))
    # and a limit on top of it slices further
    q = execute.sliced_plan(_spec(SUB, [(16, 16)] * 4), [(16, 16)] * 4, [F64] * 4,
                            execute.sliced_key(opt, 4))
    assert q.forward.cost.peak <= 4 and set(p.forward.labels) <= set(q.forward.labels)


FAST = {"methods": ["greedy"], "progbar": False, "parallel": False, "optlib": "random"}


def test_reusable_optimizer_is_keyed_by_its_hash(tmp_path):
    ctg = pytest.importorskip("cotengra")
    ops = _ops([(16, 16)] * 4)
    ea.clear_plan_cache()
    for _ in range(3):  # a fresh optimizer per call, as in a loop: one plan
        opt = ctg.ReusableHyperOptimizer(**FAST, max_repeats=2, directory=str(tmp_path))
        np.testing.assert_allclose(ea.einsum(SUB, *ops, optimize=opt), np.einsum(SUB, *ops))
    first = ea.plan_cache_info()
    assert first["hits"] == 2
    other = ctg.ReusableHyperOptimizer(**FAST, max_repeats=3, directory=str(tmp_path))
    assert execute.optimize_key(other) != execute.optimize_key(opt)
    assert execute.optimize_key(opt) == execute.optimize_key(
        ctg.ReusableHyperOptimizer(**FAST, max_repeats=2, directory=str(tmp_path)))
    ea.clear_plan_cache()


def test_optimizer_objects_are_kept_by_identity_otherwise():
    opt_einsum = pytest.importorskip("opt_einsum")
    opt = opt_einsum.RandomGreedy(max_repeats=4)
    assert execute.optimize_key(opt) == execute.optimize_key(opt)
    assert execute.optimize_key(opt) != execute.optimize_key(opt_einsum.RandomGreedy())


# ------------------------------------------------------------------ explain


def test_explain_reports_slicing():
    e = ea.explain(SUB, *[(64, 64)] * 4, memory_limit="8KiB")
    s = e.slicing
    assert s.limit == 1024 and s.slices > 1 and s.peak <= 1024 < s.peak_unsliced == 4096
    assert s.flops >= s.flops_unsliced and s.overhead >= 1.0 and s.labels
    text = str(e)
    for part in ("slicing (memory_limit: 1,024 elements (8.0 KiB)", "sliced labels",
                 f"slices: {s.slices}", "overhead", "4,096 elements (32.0 KiB) unsliced",
                 "backward: the same slicing"):
        assert part in text
    assert ea.explain(SUB, *[(64, 64)] * 4).slicing is None


def test_explain_reports_a_finer_backward():
    e = ea.explain("ab,bc,cd,de,ef,fg->ag", (16, 8), *[(8, 8)] * 5, memory_limit=32,
                   optimize=CHAIN)
    assert isinstance(e.slicing.backward, SlicingReport)
    assert "backward slicing (finer" in str(e)


# ------------------------------------------------------------------ peak memory


def _random_regular(n, degree, bond, seed):
    """Subscripts (interleaved labels) of a closed random regular graph network."""
    rng = np.random.default_rng(seed)
    while True:
        stubs = rng.permutation(np.repeat(np.arange(n), degree))
        pairs = stubs.reshape(-1, 2)
        edges = {tuple(sorted(p)) for p in pairs}
        if all(a != b for a, b in pairs) and len(edges) == len(pairs):
            break
    legs = [[] for _ in range(n)]
    for e, (a, b) in enumerate(sorted(edges)):
        legs[a].append(e)
        legs[b].append(e)
    return legs, [(bond,) * degree] * n


def _peak(fn):
    fn()  # plans made and cached
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_stays_within_the_limit():
    legs, shapes = _random_regular(26, 3, 6, seed=1)
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) / 3 for s in shapes]
    args = [x for pair in zip(ops, legs) for x in pair] + [[]]
    sub = ",".join("".join(string.ascii_letters[i] for i in lg) for lg in legs) + "->"
    unsliced = _plan(sub, shapes, None).unsliced
    limit = unsliced.peak // 16
    assert limit > 1000
    item = 8
    operands = sum(o.nbytes for o in ops)

    def fwd(limit):
        return lambda: ea.einsum(*args, memory_limit=limit)

    def both(limit):
        return lambda: ea.grad(lambda *o: ea.einsum(
            *[x for pair in zip(o, legs) for x in pair], [], memory_limit=limit),
            argnums=tuple(range(len(ops))))(*ops)

    np.testing.assert_allclose(fwd(limit)(), fwd(None)(), rtol=1e-10)
    assert _peak(fwd(None)) > 16 * limit * item  # the bounds below mean something
    assert _peak(both(None)) > 64 * limit * item
    # the model of what a slice holds, and a step's copies of its inputs on top
    p = _plan(sub, shapes, limit)
    b = slicing.backward_slicing(p)
    assert p.forward.cost.live <= slicing.WORKING_FACTOR * limit and b.cost.held < 6 * limit
    assert _peak(fwd(limit)) < (p.forward.cost.live + 2 * limit) * item
    # and the cotangents: the accumulated ones, and one slice's of the operands' chunks
    assert _peak(both(limit)) < (b.cost.held + 2 * limit) * item + 2 * operands
