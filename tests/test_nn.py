"""Layers, initialisers, losses: values against plain numpy, gradients against finite
differences, a short training run, and no graph outliving its step."""

import gc
import tracemalloc

import numpy as np
import pytest

import einsum_ad as ea
from einsum_ad import nn, optim
from einsum_ad.core import Node

RNG = np.random.default_rng(0)


def _np_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_layernorm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(x.var(-1, keepdims=True) + eps) * g + b


def _np_attention(p, x, causal):
    q, k, v = (np.einsum("btc,hdc->bhtd", x, p[w]) for w in ("Wq", "Wk", "Wv"))
    s = np.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(q.shape[-1])
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], bool)), s, -np.inf)
    o = np.einsum("bhqk,bhkd->bhqd", _np_softmax(s), v)
    return np.einsum("bhtd,chd->btc", o, p["Wo"]) + p["bo"]


# ---------------------------------------------------------------------- forward values


def test_dense_is_x_wt_plus_b_with_any_batch_axes():
    layer = nn.Dense(4, 3)
    p = layer.init(0)
    x = RNG.standard_normal((2, 5, 4))
    np.testing.assert_allclose(layer(p, x), x @ p["W"].T + p["b"])
    assert nn.Dense(4, 3, bias=False).init(0).keys() == {"W"}
    with pytest.raises(ValueError, match=r"shape \(2, 5\).*size 4"):
        layer(p, np.ones((2, 5)))


def test_mlp_matches_numpy():
    mlp = nn.MLP([3, 5, 2], activation="tanh")
    p = mlp.init(1)
    x = RNG.standard_normal((4, 3))
    h = np.tanh(x @ p[0]["W"].T + p[0]["b"])
    np.testing.assert_allclose(mlp(p, x), h @ p[1]["W"].T + p[1]["b"])
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([3, 2], activation="nonsense")
    with pytest.raises(ValueError, match="sizes"):
        nn.MLP([3])


def test_embedding_picks_rows_and_rejects_bad_ids():
    emb = nn.Embedding(6, 3)
    p = emb.init(0)
    ids = np.array([[0, 5, 5], [2, 1, 0]])
    np.testing.assert_allclose(emb(p, ids), p["E"][ids])
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        emb(p, np.array([6]))
    with pytest.raises(TypeError, match="integers"):
        emb(p, np.array([0.5]))


def test_layernorm_matches_numpy():
    ln = nn.LayerNorm(5)
    p = {"g": RNG.standard_normal(5), "b": RNG.standard_normal(5)}
    x = 3 + 2 * RNG.standard_normal((2, 3, 5))
    np.testing.assert_allclose(ln(p, x), _np_layernorm(x, p["g"], p["b"]), atol=1e-12)
    y = ln(ln.init(0), x)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(-1), 1, atol=1e-4)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_numpy(causal):
    mha = nn.MultiHeadAttention(6, num_heads=2, causal=causal)
    p = mha.init(2)
    x = RNG.standard_normal((2, 4, 6))
    np.testing.assert_allclose(mha(p, x), _np_attention(p, x, causal), atol=1e-12)


def test_causal_attention_ignores_the_future():
    block = nn.TransformerBlock(4, num_heads=2, hidden=8, causal=True)
    p = block.init(3)
    x = RNG.standard_normal((1, 5, 4))
    x2 = x.copy()
    x2[:, 3:] += 10.0
    y, y2 = block(p, x), block(p, x2)
    np.testing.assert_allclose(y[:, :3], y2[:, :3], atol=1e-12)
    assert not np.allclose(y[:, 3:], y2[:, 3:])


def test_attention_softmax_is_stable_for_huge_scores():
    mha = nn.MultiHeadAttention(2, num_heads=1)
    p = mha.init(0)
    y = mha(p, 1e4 * np.ones((1, 3, 2)))
    assert np.all(np.isfinite(y))
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiHeadAttention(6, num_heads=4)
    with pytest.raises(ValueError, match=r"\(batch, length, 2\)"):
        mha(p, np.ones((3, 2)))


def test_bilinear_matches_numpy():
    bl = nn.Bilinear(3, 2, 4)
    p = bl.init(0)
    x1, x2 = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    want = np.array([[x1[n] @ p["W"][o] @ x2[n] for o in range(4)] for n in range(5)]) + p["b"]
    np.testing.assert_allclose(bl(p, x1, x2), want)


@pytest.mark.parametrize("sites", [1, 4, 5, 7])
def test_mps_is_the_product_of_its_site_matrices(sites):
    mps = nn.MPS(num_sites=sites, phys_dim=3, bond_dim=2, out_features=2, noise=0.5)
    p = mps.init(4)
    phi = RNG.standard_normal((3, sites, 3))
    want = []
    for b in range(3):
        m = p["left"]
        for n in range(sites):
            m = m @ np.einsum("p,lpr->lr", phi[b, n], p["cores"][n])
        want.append(m @ p["right"])
    np.testing.assert_allclose(mps(p, phi), np.array(want), atol=1e-12)
    with pytest.raises(ValueError, match=rf"\(batch, {sites}, 3\)"):
        mps(p, np.ones((3, sites + 1, 3)))


def test_initialisers_are_seeded_and_scaled():
    a = nn.init.glorot_uniform(np.random.default_rng(5), (50, 40), 40, 50)
    b = nn.init.glorot_uniform(np.random.default_rng(5), (50, 40), 40, 50)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).max() <= np.sqrt(6 / 90)
    g = nn.init.glorot_normal(1, (300, 300), 300, 300)
    assert abs(g.std() - np.sqrt(1 / 300)) < 0.003
    h = nn.init.he_uniform(1, (400, 100), 100)
    assert abs(h.var() - 2 / 100) < 0.002
    np.testing.assert_array_equal(nn.Dense(3, 2).init(9)["W"], nn.Dense(3, 2).init(9)["W"])
    with pytest.raises(ValueError, match="unknown initialiser"):
        nn.Dense(3, 2, init="nope")
    with pytest.raises(TypeError, match="Generator"):
        nn.init.he_normal("seed", (2,), 2)


# ---------------------------------------------------------------------- losses, metrics


def test_softmax_cross_entropy_matches_numpy_and_is_stable():
    z = RNG.standard_normal((4, 3, 5))
    y = RNG.integers(0, 5, (4, 3))
    logp = np.log(_np_softmax(z))
    want = -np.take_along_axis(logp, y[..., None], -1).mean()
    assert nn.softmax_cross_entropy(z, y) == pytest.approx(want, rel=1e-12)
    big = np.array([[1e4, -1e4, 0.0]])
    assert nn.softmax_cross_entropy(big, np.array([0])) == pytest.approx(0.0, abs=1e-12)
    assert nn.softmax_cross_entropy(big, np.array([2])) == pytest.approx(1e4)
    with pytest.raises(ValueError, match=r"labels need shape \(4, 3\)"):
        nn.softmax_cross_entropy(z, y[:, 0])


def test_binary_cross_entropy_with_logits_matches_naive_and_is_stable():
    z = RNG.standard_normal(7)
    t = RNG.uniform(size=7)
    s = 1 / (1 + np.exp(-z))
    naive = -np.mean(t * np.log(s) + (1 - t) * np.log(1 - s))
    assert nn.binary_cross_entropy_with_logits(z, t) == pytest.approx(naive, rel=1e-12)
    huge = nn.binary_cross_entropy_with_logits(np.array([800.0, -800.0]), np.array([0.0, 0.0]))
    assert huge == pytest.approx(400.0)


def test_mse_and_accuracy():
    assert nn.mse(np.array([[1.0, 2.0]]), np.array([[0.0, 4.0]])) == pytest.approx(2.5)
    with pytest.raises(ValueError, match="targets have shape"):
        nn.mse(np.ones(3), np.ones(2))
    logits = np.array([[0.0, 1.0], [2.0, 1.0], [0.0, 3.0]])
    assert nn.accuracy(logits, np.array([1, 0, 0])) == pytest.approx(2 / 3)


# ---------------------------------------------------------------------- gradients


def _grad_case(layer, inputs, seed=0):
    params = layer.init(seed)
    return lambda p: layer(p, *inputs), (params,)


GRAD_CASES = {
    "dense": (lambda: _grad_case(nn.Dense(3, 2), (RNG.standard_normal((4, 3)),)), 2),
    "mlp_tanh": (lambda: _grad_case(nn.MLP([3, 4, 2], "tanh", "glorot_uniform"),
                                    (RNG.standard_normal((2, 3)),)), 2),
    "embedding": (lambda: _grad_case(nn.Embedding(5, 3), (np.array([[0, 4, 4]]),)), 2),
    "layernorm": (lambda: (lambda p, x: nn.LayerNorm(4)(p, x),
                           ({"g": RNG.standard_normal(4), "b": RNG.standard_normal(4)},
                            RNG.standard_normal((2, 4)))), 2),
    "attention_causal": (lambda: (lambda p, x: nn.MultiHeadAttention(4, 2, causal=True)(p, x),
                                  (nn.MultiHeadAttention(4, 2).init(1),
                                   RNG.standard_normal((2, 3, 4)))), 2),
    "transformer_block": (lambda: _grad_case(nn.TransformerBlock(4, 2, hidden=6),
                                             (RNG.standard_normal((1, 3, 4)),)), 2),
    "bilinear": (lambda: (lambda p, a, b: nn.Bilinear(3, 2, 2)(p, a, b),
                          (nn.Bilinear(3, 2, 2).init(0), RNG.standard_normal((2, 3)),
                           RNG.standard_normal((2, 2)))), 2),
    "mps": (lambda: (lambda p, phi: nn.MPS(5, 2, 3, 2, noise=0.3)(p, phi),
                     (nn.MPS(5, 2, 3, 2, noise=0.3).init(0),
                      RNG.standard_normal((2, 5, 2)))), 2),
    "softmax_xent": (lambda: (lambda z: nn.softmax_cross_entropy(z, np.array([[0, 2]])),
                              (RNG.standard_normal((1, 2, 3)),)), 2),
    "bce_logits": (lambda: (lambda z: nn.binary_cross_entropy_with_logits(
        z, np.array([0.0, 1.0, 0.3])), (np.array([-1.3, 0.4, 2.2]),)), 2),
    "mse": (lambda: (lambda a: nn.mse(a, np.ones((2, 2))), (RNG.standard_normal((2, 2)),)), 2),
}


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_check_grads(name):
    make, order = GRAD_CASES[name]
    f, args = make()
    ea.check_grads(f, args, order=order, modes=("rev", "fwd"))


# ---------------------------------------------------------------------- training


def _xor_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2))
    return x, (x[:, 0] * x[:, 1] > 0).astype(np.int64)


def test_a_short_training_run_reaches_a_loss_threshold():
    x, y = _xor_data(128)
    mlp = nn.MLP([2, 16, 2], activation="tanh", init="glorot_uniform")
    params = mlp.init(0)
    loss = lambda p: nn.softmax_cross_entropy(mlp(p, x), y)
    opt = optim.adam(0.05)
    state = opt.init(params)
    step = ea.value_and_grad(loss)
    first = None
    for _ in range(300):
        value, grads = step(params)
        first = value if first is None else first
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    assert first > 0.6 and loss(params) < 0.1
    assert nn.accuracy(mlp(params, x), y) > 0.95


def _live_nodes():
    return sum(1 for o in gc.get_objects() if type(o) is Node)  # no __class__ lookups


def test_memory_stays_flat_over_2000_steps():
    x, y = _xor_data(8)
    model = nn.MLP([2, 4, 2], activation="relu")
    params = model.init(0)
    opt = optim.sgd(0.01, momentum=0.9)
    state = opt.init(params)
    step = ea.value_and_grad(lambda p: nn.softmax_cross_entropy(model(p, x), y))

    def train(n):
        nonlocal params, state
        for _ in range(n):
            _, grads = step(params)
            updates, state = opt.update(grads, state, params)
            params = optim.apply_updates(params, updates)

    gc.collect()
    before_nodes = _live_nodes()
    was_enabled = gc.isenabled()
    gc.disable()  # a graph kept alive only by a reference cycle would show up below
    try:
        train(50)
        tracemalloc.start()
        train(100)
        mid, _ = tracemalloc.get_traced_memory()
        train(1850)
        end, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert _live_nodes() == before_nodes, "a step's graph nodes outlived the step"
    finally:
        if was_enabled:
            gc.enable()
    assert end - mid < 64 * 1024, f"memory grew by {end - mid} bytes over 1,850 steps"
