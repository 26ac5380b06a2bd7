"""nn layers, losses, optimizers and explain on every array backend: parameters initialised
on the host with NumPy and moved with ``ea.tree_map``, values against the same code on
NumPy arrays, gradients against finite differences."""

import numpy as np
import pytest
from _array_backends import check_array, check_tree

import einsum_ad as ea
from einsum_ad import nn, optim

RNG = np.random.default_rng(3)
X = RNG.standard_normal((4, 6))
LABELS = np.array([2, 0, 1, 2])
SEQ = RNG.standard_normal((2, 5, 8))
MASK = RNG.random((2, 1, 5, 5)) > 0.3


def _moved(backend, params):
    return ea.tree_map(backend.asarray, params)


LAYERS = [
    ("dense", lambda: nn.Dense(6, 3), lambda: (X,)),
    ("mlp", lambda: nn.MLP([6, 5, 3], activation="tanh"), lambda: (X,)),
    ("layernorm", lambda: nn.LayerNorm(6), lambda: (X,)),
    ("bilinear", lambda: nn.Bilinear(6, 3, 2), lambda: (X, X[:, :3] * 2)),
    ("embedding", lambda: nn.Embedding(5, 3), lambda: (np.array([[1, 4, 0], [2, 2, 3]]),)),
    ("attention", lambda: nn.MultiHeadAttention(8, num_heads=2), lambda: (SEQ,)),
    ("attention-causal-mask", lambda: nn.MultiHeadAttention(8, 2, causal=True),
     lambda: (SEQ, MASK)),
    ("transformer", lambda: nn.TransformerBlock(8, num_heads=2, hidden=12, causal=True),
     lambda: (SEQ,)),
    ("mps", lambda: nn.MPS(num_sites=5, phys_dim=2, bond_dim=3, out_features=2),
     lambda: (np.stack([np.ones((3, 5)), RNG.random((3, 5))], axis=-1),)),
]


@pytest.mark.parametrize("name, make, inputs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_apply_and_gradient(backend, name, make, inputs):
    layer = make()
    params, args = layer.init(0), inputs()
    want = layer(params, *args)
    p = _moved(backend, params)
    # token ids and masks may stay on the host (NumPy): they join the parameters' library
    moved = [backend.asarray(a) if a.dtype.kind == "f" else a for a in args]
    check_array(backend, layer(p, *moved), want, rtol=1e-10, atol=1e-12)
    loss = lambda p: ea.sum(ea.tanh(layer(p, *moved)))
    g = ea.grad(loss)(p)
    check_tree(backend, g, ea.grad(lambda q: ea.sum(ea.tanh(layer(q, *args))))(params),
               rtol=1e-9, atol=1e-12)
    if name in ("mlp", "attention-causal-mask", "mps"):
        ea.check_grads(loss, (p,), order=1, modes=("rev",))


def test_masks_and_labels_of_the_backend(backend):
    mha = nn.MultiHeadAttention(8, 2, causal=True)
    params = mha.init(1)
    want = mha(params, SEQ, MASK)
    check_array(backend, mha(_moved(backend, params), backend.asarray(SEQ),
                             backend.asarray(MASK)), want, rtol=1e-10, atol=1e-12)
    emb = nn.Embedding(5, 3)
    ids = np.array([[1, 4, 0]])
    check_array(backend, emb(_moved(backend, emb.init(0)), backend.asarray(ids)),
                emb(emb.init(0), ids))


LOSSES = [
    ("softmax_cross_entropy", lambda z, t: nn.softmax_cross_entropy(z, t), LABELS[:4]),
    ("mse", nn.mse, RNG.standard_normal((4, 3))),
    ("bce", nn.binary_cross_entropy_with_logits, (RNG.random((4, 3)) > 0.5) * 1.0),
]


@pytest.mark.parametrize("name, loss, target", LOSSES, ids=[c[0] for c in LOSSES])
@pytest.mark.parametrize("target_on", ["host", "backend"])
def test_losses(backend, name, loss, target, target_on):
    z = RNG.standard_normal((4, 3))
    t = target if target_on == "host" else backend.asarray(target)
    Z = backend.asarray(z)
    check_array(backend, loss(Z, t), loss(z, target), rtol=1e-12)
    check_array(backend, ea.grad(loss)(Z, t), ea.grad(loss)(z, target), rtol=1e-12)
    ea.check_grads(lambda z: loss(z, t), (Z,), order=2, modes=("fwd", "rev"))
    assert nn.accuracy(Z, LABELS) == nn.accuracy(z, LABELS)


OPTIMIZERS = [
    ("sgd", lambda: optim.sgd(0.1)),
    ("sgd-nesterov", lambda: optim.sgd(0.1, momentum=0.9, nesterov=True)),
    ("adam", lambda: optim.adam(0.01)),
    ("adamw", lambda: optim.adamw(0.01, weight_decay=0.1)),
    ("clip-adam", lambda: optim.chain(optim.clip_by_global_norm(0.5), optim.adam(0.01))),
]


@pytest.mark.parametrize("name, make", OPTIMIZERS, ids=[c[0] for c in OPTIMIZERS])
def test_optimizer_update(backend, name, make):
    mlp = nn.MLP([6, 5, 3])
    params = mlp.init(0)
    loss = lambda p, x: nn.softmax_cross_entropy(mlp(p, x), LABELS)
    opt = make()

    def train(p, x, steps=3):
        state = opt.init(p)
        for _ in range(steps):
            updates, state = opt.update(ea.grad(loss)(p, x), state, p)
            p = optim.apply_updates(p, updates)
        return p, state

    want, _ = train(params, X)
    got, state = train(_moved(backend, params), backend.asarray(X))
    check_tree(backend, got, want, rtol=1e-10, atol=1e-12)
    for leaf in ea.tree_leaves(state):
        if getattr(leaf, "ndim", 0):  # moments live with the parameters (not the count)
            check_array(backend, leaf, dtype=np.float64, what="optimizer state")


def test_explain_with_backend_operands(backend):
    a, b = RNG.standard_normal((3, 4, 5)), RNG.standard_normal((3, 5, 2))
    want = ea.explain("bij,bjk->bik", a, b)
    got = ea.explain("bij,bjk->bik", backend.asarray(a), backend.asarray(b))
    assert [r.kind for r in got.forward] == [r.kind for r in want.forward]
    assert (got.flops_forward, got.flops_backward) == (want.flops_forward, want.flops_backward)
    assert str(got).splitlines()[1:] == str(want).splitlines()[1:]


def test_training_the_mlp_on_backend_tensors(backend):
    # a few Adam steps of the digits-style MLP, float32 as in training: the loss falls
    x = RNG.standard_normal((32, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    mlp = nn.MLP([6, 16, 3])
    params = ea.tree_map(lambda a: backend.asarray(a.astype(np.float32)), mlp.init(0))
    xb = backend.asarray(x)
    opt = optim.adam(0.05)
    state = opt.init(params)
    loss = lambda p: nn.softmax_cross_entropy(mlp(p, xb), y)
    first = None
    for _ in range(20):
        value, g = ea.value_and_grad(loss)(params)
        first = value if first is None else first
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
        if backend.library == "dask":  # a lazy step's graph would hold every step before it
            import dask
            params, state, value = dask.persist(params, state, value)
    check_array(backend, value, dtype=np.float32, what="loss")
    for leaf in ea.tree_leaves(params):
        check_array(backend, leaf, dtype=np.float32, what="parameter")
    assert float(value) < 0.7 * float(first)

