"""Gradients of composite functions against PyTorch (float64, CPU), where it is installed.

Each case is written twice, once with einsum_ad and once with torch, from the same formula;
the gradients with respect to every argument must agree to float64 precision.
"""

import numpy as np
import pytest

import einsum_ad as ea

torch = pytest.importorskip(
    "torch", reason="PyTorch is not installed: the optional gradient oracle is skipped")


def _rng(seed=0):
    return np.random.default_rng(seed)


def mlp_loss_ea(W1, b1, W2, b2, x, y):
    """Two-layer tanh MLP, softmax cross-entropy against integer labels ``y``."""
    h = ea.tanh(x @ W1.T + b1)
    logits = h @ W2.T + b2
    logp = ea.log_softmax(logits, axis=-1)
    return -ea.mean(ea.take_along_axis(logp, y[:, None], axis=1))


def mlp_loss_torch(W1, b1, W2, b2, x, y):
    h = torch.tanh(x @ W1.T + b1)
    logits = h @ W2.T + b2
    return torch.nn.functional.cross_entropy(logits, torch.as_tensor(y))


def attention_ea(q, k, v):
    """Softmax attention whose normaliser is a logsumexp, plus a gelu/relu/sigmoid head."""
    s = ea.einsum("bqd,bkd->bqk", q, k) / np.sqrt(q.shape[-1])
    p = ea.exp(s - ea.logsumexp(s, axis=-1, keepdims=True))
    o = ea.einsum("bqk,bkd->bqd", p, v)
    return ea.sum(ea.gelu(o) * ea.sigmoid(o) + ea.softplus(-o)) + ea.sum(ea.max(o, axis=1))


def attention_torch(q, k, v):
    s = torch.einsum("bqd,bkd->bqk", q, k) / np.sqrt(q.shape[-1])
    p = torch.exp(s - torch.logsumexp(s, dim=-1, keepdim=True))
    o = torch.einsum("bqk,bkd->bqd", p, v)
    gelu = torch.nn.functional.gelu(o, approximate="tanh")
    return (torch.sum(gelu * torch.sigmoid(o) + torch.nn.functional.softplus(-o))
            + torch.sum(torch.amax(o, dim=1)))


def bilinear_ea(x, A, y, scale):
    """Broadcast bilinear form ``scale * x_b^T A y`` (A shared over the batch), then a
    normalising square root, a clip and indexing."""
    f = ea.einsum("bi,ij,j->b", x, A, y) * scale
    r = ea.sqrt(f * f + 1.0)
    return ea.sum(ea.clip(r, 0.0, 5.0)[[0, 2, 2]] + ea.concatenate([r, r[::-1]])[1:4])


def bilinear_torch(x, A, y, scale):
    f = torch.einsum("bi,ij,j->b", x, A, y) * scale
    r = torch.sqrt(f * f + 1.0)
    idx = torch.tensor([0, 2, 2])
    return torch.sum(torch.clamp(r, 0.0, 5.0)[idx] + torch.cat([r, torch.flip(r, [0])])[1:4])


def _mlp_args():
    rng = _rng(1)
    return ((rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal((4, 5)),
             rng.standard_normal(4)),
            (rng.standard_normal((6, 3)), np.array([0, 3, 1, 1, 2, 0])))


def _attention_args():
    rng = _rng(2)
    return (rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)),
            rng.standard_normal((2, 5, 4))), ()


def _bilinear_args():
    rng = _rng(3)
    return (rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2),
            rng.standard_normal((1,))), ()


CASES = [
    ("mlp_tanh_softmax_xent", mlp_loss_ea, mlp_loss_torch, _mlp_args),
    ("logsumexp_attention", attention_ea, attention_torch, _attention_args),
    ("bilinear_broadcast", bilinear_ea, bilinear_torch, _bilinear_args),
]


@pytest.mark.parametrize("name,f_ea,f_torch,build", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_pytorch(name, f_ea, f_torch, build):
    params, consts = build()
    argnums = tuple(range(len(params)))
    value, grads = ea.value_and_grad(f_ea, argnums=argnums)(*params, *consts)
    tparams = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    tconsts = [torch.tensor(c) if np.asarray(c).dtype.kind == "f" else c for c in consts]
    tvalue = f_torch(*tparams, *tconsts)
    tgrads = torch.autograd.grad(tvalue, tparams)
    np.testing.assert_allclose(value, tvalue.item(), rtol=1e-12)
    for g, tg in zip(grads, tgrads):
        assert g.shape == tuple(tg.shape)
        np.testing.assert_allclose(g, tg.numpy(), rtol=1e-10, atol=1e-12)


def test_hessian_vector_product_matches_pytorch():
    """Second order through tanh, log_softmax and indexing: forward-over-reverse here,
    double backward in torch."""
    (W1, b1, W2, b2), (x, y) = _mlp_args()
    v = _rng(4).standard_normal(W1.shape)

    def loss_W1(W):
        return mlp_loss_ea(W, b1, W2, b2, x, y)

    _, hv = ea.jvp(ea.grad(loss_W1), (W1,), (v,))
    tW = torch.tensor(W1, requires_grad=True)
    targs = [torch.tensor(a) for a in (b1, W2, b2, x)]
    (g,) = torch.autograd.grad(mlp_loss_torch(tW, *targs, y), tW, create_graph=True)
    (thv,) = torch.autograd.grad(g, tW, grad_outputs=torch.tensor(v))
    np.testing.assert_allclose(hv, thv.numpy(), rtol=1e-10, atol=1e-12)
