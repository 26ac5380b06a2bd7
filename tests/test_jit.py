"""jit: compiled programs equal the eager results on the vmap table and under every
transform; signatures, retracing and the bounded cache; fusion, duplicates, dead code and
constants as make_graph and explain show them; buffers reused but never aliased by what is
returned; the errors that say what to do."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from test_vmap import FUNCTIONS, VALUE_READERS

import einsum_ad as ea
from einsum_ad import backend, rules
from einsum_ad.transforms.program import UFUNCS

RNG = np.random.default_rng(0)
X0 = RNG.standard_normal((2, 3))
X1 = RNG.standard_normal((2, 3))
XS = RNG.standard_normal((4, 2, 3))
W = RNG.standard_normal((3, 3))


def _same(a, b, exact):
    if exact:
        np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_jit_equals_eager_on_every_function(name):
    f = FUNCTIONS[name][0]
    j = ea.jit(f)
    _same(j(X0), f(X0), True)  # the first call hands out what tracing computed
    exact = j.program(X0).stats["fused"] == 0  # a fused chain may round differently
    _same(j(X0), f(X0), exact)  # the compiled program
    _same(j(X1), f(X1), exact)  # the same program, other values
    assert j.cache_info()["misses"] == 1
    L = lambda h: ea.sum(f(h) * f(h))
    v, g = ea.jit(ea.value_and_grad(L))(X0)
    ve, ge = ea.value_and_grad(L)(X0)
    np.testing.assert_allclose(v, ve, rtol=1e-12)
    np.testing.assert_allclose(g, ge, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("name", ["matmul", "einsum3", "softmax", "getitem", "concatenate",
                                  "where", "max_keepdims", "logsumexp_b", "take_along_axis"])
def test_jit_composes_with_every_transform(name):
    f = FUNCTIONS[name][0]
    L = lambda h: ea.sum(f(h) * f(h))
    g = ea.grad(L)
    t = RNG.standard_normal((2, 3))
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-11)
    close(ea.jit(ea.vmap(g))(XS), ea.vmap(g)(XS))                        # jit(vmap(grad))
    close(ea.grad(ea.jit(L))(X0), g(X0))                                  # grad(jit)
    close(ea.grad(lambda h: ea.jit(L)(h) * 2.0)(X0), 2 * g(X0))
    close(ea.vmap(ea.jit(g))(XS), ea.vmap(g)(XS))                        # vmap(jit)
    close(ea.jit(ea.jit(g))(X0), g(X0))                                  # jit(jit)
    close(ea.jvp(ea.jit(g), (X0,), (t,))[1], ea.jvp(g, (X0,), (t,))[1])  # jvp(jit)
    close(ea.jit(ea.grad(ea.jit(L)))(X0), g(X0))                         # jit(grad(jit))
    close(ea.grad(lambda h: ea.sum(ea.jit(g)(h) * t))(X0),               # second order
          ea.grad(lambda h: ea.sum(g(h) * t))(X0))


def test_second_order_through_jit_against_finite_differences():
    f = ea.jit(lambda w, x: ea.sum(ea.tanh(x @ w) ** 2))
    ea.check_grads(lambda w: f(w, X0), (W,), order=2, modes=("fwd", "rev"))


def test_jit_of_jacobians_and_hessians():
    f = lambda x: ea.tanh(x @ W) * x
    np.testing.assert_allclose(ea.jit(ea.jacfwd(f))(X0), ea.jacfwd(f)(X0), rtol=1e-12)
    np.testing.assert_allclose(ea.jacrev(ea.jit(f))(X0), ea.jacrev(f)(X0), rtol=1e-12)
    h = lambda x: ea.sum(f(x) ** 2)
    np.testing.assert_allclose(ea.jit(ea.hessian(h))(X0), ea.hessian(h)(X0), rtol=1e-11)


def _mlp_loss(p, x, y):
    h = x
    for i in range(3):
        h = ea.einsum("bi,io->bo", h, p[f"W{i}"]) + p[f"b{i}"]
        if i < 2:
            h = ea.relu(h)
    return -ea.sum(y * ea.log_softmax(h, axis=1)) / x.shape[0]


@pytest.mark.parametrize("fuse", [False, True])
def test_an_mlp_training_step_equals_eager(fuse):
    rng = np.random.default_rng(3)
    sizes = (20, 16, 16, 5)
    p = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        p[f"W{i}"] = (rng.standard_normal((m, n)) / np.sqrt(m)).astype(np.float32)
        p[f"b{i}"] = np.zeros(n, np.float32)
    step = ea.jit(ea.value_and_grad(_mlp_loss), fuse=fuse)
    for _ in range(3):  # later calls reuse the program's buffers
        x = rng.standard_normal((8, 20)).astype(np.float32)
        y = np.eye(5, dtype=np.float32)[rng.integers(0, 5, 8)]
        (v, g), (ve, ge) = step(p, x, y), ea.value_and_grad(_mlp_loss)(p, x, y)
        assert v.dtype == np.float32
        if fuse:  # the loss's product and sum are one contraction: summed in another order
            np.testing.assert_allclose(v, ve, rtol=1e-6)
        else:  # the same kernels on the same operands: the same bits
            assert v == ve
        for k in p:
            np.testing.assert_array_equal(g[k], ge[k])
            assert g[k].dtype == np.float32
    assert step.cache_info() == {"hits": 2, "misses": 1, "size": 1, "maxsize": 64}
    assert step.compiled(p, x, y).slots  # intermediates live in reused buffers


# ------------------------------------------------------------ signatures and caching


def test_retraces_on_a_new_signature_only():
    traces = []

    def f(x, y):
        traces.append(1)
        return x * y + 1.0

    j = ea.jit(f)
    a, b = np.ones((2, 3)), np.ones(3)
    j(a, b)
    j(a + 1, b * 2)  # new values: the same program
    assert len(traces) == 1
    j(np.ones((4, 3)), b)  # a new shape
    j(a.astype(np.float32), b.astype(np.float32))  # new dtypes
    j(a, {"k": b}["k"])
    assert len(traces) == 3
    g = ea.jit(lambda t: t["x"] * t["y"])
    g({"x": a, "y": b})
    g({"x": a, "y": a})  # a new shape in the pytree
    g({"x": b, "y": b})
    assert g.cache_info()["misses"] == 3 and g.cache_info()["hits"] == 0
    g({"x": b, "y": b})
    assert g.cache_info()["hits"] == 1


def test_the_cache_is_bounded_inspectable_and_clearable():
    j = ea.jit(lambda x: x * 2.0, cache_size=2)
    for n in (1, 2, 3):
        j(np.ones(n))
    assert j.cache_info() == {"hits": 0, "misses": 3, "size": 2, "maxsize": 2}
    j(np.ones(3))  # the most recent: still there
    j(np.ones(1))  # the least recently used was dropped: traced again
    assert j.cache_info() == {"hits": 1, "misses": 4, "size": 2, "maxsize": 2}
    j.cache_clear()
    assert j.cache_info() == {"hits": 0, "misses": 0, "size": 0, "maxsize": 2}
    with pytest.raises(ValueError, match="cache_size"):
        ea.jit(lambda x: x, cache_size=0)


def test_static_arguments_by_position_and_name():
    def f(x, n, mode="plain"):
        y = x ** n
        return -y if mode == "neg" else y  # control flow on static values is fine

    j = ea.jit(f, static_argnums=(1,), static_argnames="mode")
    x = np.arange(3.0)
    np.testing.assert_array_equal(j(x, 2), x ** 2)
    np.testing.assert_array_equal(j(x, 3, mode="neg"), -(x ** 3))
    np.testing.assert_array_equal(j(x, n=2), x ** 2)  # a static position's name is static
    assert j.cache_info()["misses"] == 3
    with pytest.raises(TypeError, match="not hashable"):
        j(x, [2])
    with pytest.raises(TypeError, match="static_argnums"):
        ea.jit(lambda x, s: x)(x, "text")
    with pytest.raises(TypeError, match="static_argnums must be an int"):
        ea.jit(f, static_argnums="1")


def test_python_numbers_are_constants_of_the_program_and_stay_weak():
    j = ea.jit(lambda x, s: x * s)
    x = np.ones(3, np.float32)
    out = j(x, 2.5)
    assert out.dtype == np.float32  # a Python float next to float32 stays float32
    np.testing.assert_array_equal(j(x, 3.5), x * 3.5)
    assert j.cache_info()["misses"] == 2


def test_keyword_arguments_pytrees_and_non_array_outputs():
    j = ea.jit(lambda p, *, x: ({"y": p[0] @ x, "z": [p[1] * 2.0, None]}, 3, "tag"))
    out = j((W, X0), x=np.ones(3))
    np.testing.assert_allclose(out[0]["y"], W @ np.ones(3))
    np.testing.assert_array_equal(out[0]["z"][0], X0 * 2.0)
    assert out[0]["z"][1] is None and out[1:] == (3, "tag")
    assert ea.jit(lambda: np.ones(2))().tolist() == [1.0, 1.0]


def test_a_decorator_with_or_without_arguments():
    @ea.jit
    def f(x):
        return x + 1.0

    @ea.jit(static_argnums=1)
    def g(x, k):
        return x * k

    assert f(np.zeros(2)).tolist() == [1.0, 1.0] and g(np.ones(2), 3).tolist() == [3.0, 3.0]
    assert f.__name__ == "f" and isinstance(f, ea.transforms.Jitted)


# --------------------------------------------------------------------- the passes


def test_a_chain_fuses_into_one_einsum_planned_as_a_whole():
    x, A, B, C = (RNG.standard_normal(s) for s in ((100, 3), (3, 4), (4, 5), (5, 2)))
    orders = [lambda x, A, B, C: ((x @ A) @ B) @ C,
              lambda x, A, B, C: x @ (A @ (B @ C)),
              lambda x, A, B, C: (x @ (A @ B)) @ C]
    for f in orders:
        g = ea.make_graph(ea.jit(f), x, A, B, C)
        assert [n.primitive for n in g.nodes] == ["einsum"]
        assert g.nodes[0].spec == "ab,bc,cd,de->ae"
        np.testing.assert_allclose(ea.jit(f)(x, A, B, C), f(x, A, B, C), rtol=1e-12)
    report = ea.explain(ea.jit(orders[0]), x, A, B, C)
    (i, plan), = report.nodes
    # the best order contracts the small matrices first: x meets their product last
    assert plan.forward[-1].args[0] == "op0"
    assert plan.flops_forward < 2 * 100 * (3 * 4 + 4 * 5 + 5 * 2)
    assert "fused 2" in str(report)


def test_grad_of_a_jitted_chain_differentiates_the_fused_node():
    x, A, B, C = (RNG.standard_normal(s) for s in ((256, 8), (8, 256), (256, 8), (8, 256)))
    chain = lambda x, A, B, C: ea.sum(((x @ A) @ B) @ C)
    nums = (0, 1, 2, 3)
    fused = ea.jit(ea.value_and_grad(ea.jit(chain), argnums=nums))
    plain = ea.jit(ea.value_and_grad(chain, argnums=nums))
    largest = lambda j: max(int(np.prod(n.shape)) for n in ea.make_graph(j, x, A, B, C))
    assert largest(plain) == 256 * 256  # x @ A, as written
    assert largest(fused) == 256 * 8  # the fused node's best order: no 256 x 256 product
    for a, b in zip(ea.tree_leaves(fused(x, A, B, C)), ea.tree_leaves(plain(x, A, B, C))):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_a_tracer_is_never_taken_for_a_plain_array_once_a_backend_met_one():
    """Regression (after merging main's array API namespace): a tracer answers
    ``__array_namespace__``, so the first one ``backend.of`` met (vjp's owners of its inputs,
    under jit) registered the Tracer type as an array of einsum_ad.numpy; jit's signature
    then took grad's tracers for plain arrays and ran its compiled program on them, and
    grad(jit(f)) returned a wrong gradient (zeros where the program's output was a new
    array) in every test that happened to run after a jit(grad(f))."""
    L = lambda h: ea.sum((h @ W) * (h @ W))
    ea.jit(ea.grad(L))(X0)  # vjp under jit: backend.of reads ProgramTrace tracers
    seen = []
    ea.vmap(lambda h: seen.append(h) or h * 2.0)(XS)
    ea.grad(lambda h: seen.append(h) or ea.sum(h * h))(X0)
    ea.jit(lambda h: seen.append(h) or h * 2.0)(X0)
    assert {type(t).__name__ for t in seen} == {"Tracer", "BatchTracer"}
    for t in seen:
        assert backend.of(t) is None and not backend.is_array(t)
    j = ea.jit(L)
    for _ in range(2):  # the traced call, then the cached program's
        np.testing.assert_allclose(ea.grad(j)(X0), ea.grad(L)(X0), rtol=1e-12)


def test_a_transpose_and_a_sum_of_a_product_fold_into_its_spec():
    A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))
    g = ea.make_graph(ea.jit(lambda a, b: (a @ b).T), A, B)
    assert [(n.primitive, n.spec) for n in g.nodes] == [("einsum", "ab,bc->ca")]
    g = ea.make_graph(ea.jit(lambda a, b: ea.sum(a @ b, axis=0) * 2.0), A, B)
    assert [(n.primitive, n.spec) for n in g.nodes] == [("einsum", "ab,bc,->c")]


def test_a_product_used_twice_is_not_fused():
    A, B = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))
    f = lambda a, b: ea.tanh(a @ b) + (a @ b).sum()
    j = ea.jit(f)
    nodes = [n.primitive for n in ea.make_graph(j, A, B).nodes]
    assert nodes.count("einsum") == 2  # the product once (duplicates merged), its sum once
    assert j.program(A, B).stats["duplicates"] == 1
    np.testing.assert_allclose(j(A, B), f(A, B), rtol=1e-13)


def test_duplicates_dead_code_and_constants():
    C = RNG.standard_normal((3, 3))

    def f(x):
        unused = ea.exp(x) @ C  # noqa: F841 - dead code
        a = ea.tanh(x) * 2.0
        b = ea.tanh(x) * 2.0  # a duplicate
        return a + b + x @ (C @ C.T)  # C @ C.T is a constant: computed when tracing

    j = ea.jit(f)
    st = j.program(X0).stats
    assert st["duplicates"] >= 2 and st["dead"] >= 2
    prims = [n.primitive for n in ea.make_graph(j, X0).nodes]
    assert prims.count("tanh") == 1 and "exp" not in prims
    np.testing.assert_allclose(j(X0), f(X0), rtol=1e-13)
    # constant operands of a fused node are contracted once, when compiling
    k = ea.jit(lambda x: ea.einsum("ab,bc,cd->ad", x, C, C))
    x = RNG.standard_normal((50, 3))  # C @ C first is the best order
    assert "k1(" not in k.compiled(x).source and "k0(x0, c" in k.compiled(x).source
    np.testing.assert_allclose(k(x), x @ C @ C, rtol=1e-12)


def test_the_optimisations_can_be_turned_off():
    f = lambda x: ((x @ W) @ W) @ W + ea.tanh(x) * 0.0 + ea.tanh(x) * 0.0
    plain = ea.jit(f, fuse=False, simplify=False, reuse_buffers=False)
    assert [n.primitive for n in ea.make_graph(plain, X0).nodes].count("tanh") == 2
    assert plain.program(X0).stats["equations"] == plain.program(X0).stats["recorded"]
    assert not plain.compiled(X0).slots
    np.testing.assert_array_equal(plain(X0), f(X0))
    np.testing.assert_array_equal(plain(X0), f(X0))


# ----------------------------------------------------------------------- buffers


def test_returned_arrays_never_alias_the_programs_buffers():
    big = RNG.standard_normal((64, 64))
    f = lambda x: (ea.tanh(x @ big) @ big, ea.exp(x) * 2.0 + 1.0)
    j = ea.jit(f)
    x1, x2 = RNG.standard_normal((8, 64)), RNG.standard_normal((8, 64))
    j(x2)  # the first call (its values come from tracing); the next ones run the program
    r1 = j(x1)
    r1_copy = [np.array(a) for a in r1]
    r2 = j(x2)
    assert j.compiled(x1).slots  # there are buffers to reuse
    for a, b, c in zip(r1, r1_copy, r2):
        np.testing.assert_array_equal(a, b)  # the second call did not overwrite the first
        assert not np.array_equal(a, c)
        assert not np.shares_memory(a, c)
    np.testing.assert_allclose(r2[0], f(x2)[0], rtol=1e-12)
    r2[1][...] = 0.0  # the caller may write into what it received
    np.testing.assert_allclose(j(x2)[1], f(x2)[1], rtol=1e-13)


@pytest.mark.parametrize("f", [
    lambda x: x,
    lambda x: (x, x),
    lambda x: x.T,
    lambda x: ea.stop_gradient(x).reshape(3, 2),
    lambda x: ea.broadcast_to(x[0], (4, 3)),
    lambda x: (x * 2.0, (x * 2.0).T),
    lambda x: ea.grad(lambda y: ea.sum(y))(x),
    lambda x: W,
])
def test_every_returned_array_is_new_and_writeable(f):
    x = np.array(X0)
    j = ea.jit(f)
    for _ in range(2):  # the first call's values come from tracing, then the program's
        outs = ea.tree_leaves(j(x))
        for i, o in enumerate(outs):
            np.testing.assert_allclose(o, ea.tree_leaves(f(X0))[i])
            assert o.flags.writeable and not np.shares_memory(o, x)
            assert not np.shares_memory(o, W)
            for p in outs[:i]:
                assert not np.shares_memory(o, p)


def test_concurrent_calls_from_threads_get_their_own_buffers():
    big = RNG.standard_normal((32, 32))
    j = ea.jit(lambda x: ea.tanh(x @ big) @ big + 1.0)
    xs = [RNG.standard_normal((16, 32)) for _ in range(8)]
    expected = [np.tanh(x @ big) @ big + 1.0 for x in xs]
    j(xs[0])
    results = [None] * len(xs)

    def work(i):
        for _ in range(20):
            results[i] = j(xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r, e in zip(results, expected):
        np.testing.assert_allclose(r, e, rtol=1e-12)


def test_the_ufunc_table_matches_each_primitives_impl():
    bk = backend.default()
    a, b = RNG.uniform(0.5, 2.0, (3, 4)), RNG.uniform(0.5, 2.0, (4,))
    for prim, name in UFUNCS.items():
        args = (a, b) if name in ("add", "subtract", "divide", "pow", "maximum", "minimum",
                                  "equal", "not_equal", "less", "less_equal", "greater",
                                  "greater_equal") else (a,)
        if name == "logical_and":
            args = (a > 1, b > 1)
        expected = prim.impl(*args)
        np.testing.assert_array_equal(getattr(bk, name)(*args), expected)
        out = np.empty(expected.shape, expected.dtype)
        assert bk.out_kernel(name)(*args, out=out) is out
        np.testing.assert_array_equal(out, expected)


def test_the_pairwise_kernels_write_into_out_as_they_would_allocate():
    from einsum_ad.execute import lower
    from einsum_ad.spec import Spec, relabel

    rng = np.random.default_rng(5)
    bk = backend.default()
    checked = 0
    for _ in range(300):
        labels = "abcde"[:rng.integers(1, 6)]
        size = {lab: int(rng.integers(1, 5)) for lab in labels}
        sa = "".join(rng.permutation(list(labels))[:rng.integers(1, len(labels) + 1)])
        sb = "".join(rng.permutation(list(labels))[:rng.integers(1, len(labels) + 1)])
        pool = sorted(set(sa) | set(sb))
        out = "".join(rng.permutation(pool)[:rng.integers(0, len(pool) + 1)])
        a = rng.standard_normal([size[c] for c in sa])
        b = rng.standard_normal([size[c] for c in sb])
        spec = relabel(Spec((sa, sb), out))
        run = lower(spec, [a.shape, b.shape], bk, [a.dtype, b.dtype])
        if run.out_shape is None:
            continue
        buf = np.empty(run.out_shape)
        np.testing.assert_allclose(run(a, b, out=buf), run(a, b), rtol=1e-13, atol=1e-13)
        checked += 1
    assert checked > 200


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize("f, what", [
    (lambda x: x if x.sum() > 0 else -x, "truth value"),
    (lambda x: ea.where(x > 0, x, 0.0) if bool(x[0, 0]) else x, "truth value"),
    (lambda x: float(x[0, 0]) * x, "float"),
    (lambda x: x * int(x.sum()), "int"),
    (lambda x: np.asarray(x), "array"),
    (lambda x: x.argmax(), "argmax"),
    (lambda x: x[x > 0], "indexing"),
    (lambda x: ea.where(x > 0), "nonzero"),
])
def test_reading_a_traced_value_raises_and_says_what_to_do(f, what):
    with pytest.raises(TypeError, match="jit") as info:
        ea.jit(f)(X0)
    msg = str(info.value)
    assert what in msg and "static_argnums" in msg and "ea.where" in msg


def test_a_closure_over_an_outer_traced_value_raises():
    with pytest.raises(TypeError, match="closure over a traced value"):
        ea.grad(lambda w: ea.sum(ea.jit(lambda x: x * w)(X0)))(W[:2])


def test_an_escaped_jit_tracer_raises():
    kept = []
    ea.jit(lambda x: kept.append(x) or x * 2.0)(X0)
    with pytest.raises(TypeError, match="escaped"):
        ea.exp(kept[0])


def test_non_callables_and_arrays_of_two_libraries_are_refused():
    with pytest.raises(TypeError, match="callable"):
        ea.jit(3)
    xp = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match="two libraries"):
        ea.jit(lambda a, b: a)(X0, xp.asarray(X0))


# --------------------------------------------------------------------- backends, CLI


def test_jit_on_the_array_api_backend_allocates_instead_of_reusing():
    xp = pytest.importorskip("array_api_strict")
    x, w = xp.asarray(X0), xp.asarray(W)
    f = ea.jit(ea.value_and_grad(lambda x: ea.sum(ea.tanh(x @ w) ** 2)))
    v, g = f(x)
    assert type(g) is type(x) and not f.compiled(x).slots
    ve, ge = ea.value_and_grad(lambda x: ea.sum(ea.tanh(x @ W) ** 2))(X0)
    np.testing.assert_allclose(float(v), ve, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g), ge, rtol=1e-12)


@pytest.mark.parametrize("f, what", VALUE_READERS)
def test_a_function_reading_a_traced_value_names_itself(f, what):
    """Under jit they raised too, but in the words of the abstract value's ``__array__``
    ("converting it to an array"), not naming the function that read it."""
    with pytest.raises(TypeError, match="jit") as info:
        ea.jit(f)(X0[0])
    msg = str(info.value)
    assert what in msg and "static_argnums" in msg and "ea.where" in msg


def test_train_runs_its_steps_through_jit_and_no_jit_gives_the_same_run(capsys):
    pytest.importorskip("sklearn")
    from einsum_ad import cli

    assert cli.main(["train", "digits", "--epochs", "1", "--quiet"]) == 0
    jitted = capsys.readouterr().out
    assert cli.main(["train", "digits", "--epochs", "1", "--quiet", "--no-jit"]) == 0
    eager = capsys.readouterr().out
    assert "faster steps than eager" in jitted and "eager steps" in eager
    # the same run: every field of the summary but the one that times the epoch
    same = lambda out: [f for f in out.split("|") if " epoch" not in f]
    assert same(jitted) == same(eager) and len(same(jitted)) == len(jitted.split("|")) - 1


def test_the_primitives_compiled_directly_are_in_the_rule_table():
    table = {p for section in rules.PRIMITIVES.values() for p in section}
    assert set(UFUNCS) <= table
