"""Optimizers against hand-computed steps (and PyTorch's), clipping, chains and schedules."""

import math

import numpy as np
import pytest

from einsum_ad import optim


def _run(opt, grads_seq, params):
    state = opt.init(params)
    out = []
    for g in grads_seq:
        upd, state = opt.update(g, state, params)
        params = optim.apply_updates(params, upd)
        out.append(params)
    return out, state


G1, G2 = np.array([1.0, -2.0]), np.array([0.5, 4.0])


def test_sgd_plain_step_by_hand():
    (p1, p2), _ = _run(optim.sgd(0.1), [G1, G2], np.array([1.0, 1.0]))
    np.testing.assert_allclose(p1, [0.9, 1.2])
    np.testing.assert_allclose(p2, [0.85, 0.8])


def test_sgd_momentum_by_hand():
    # v1 = g1 = [1, -2]; v2 = 0.9 v1 + g2 = [1.4, 2.2]
    (p1, p2), state = _run(optim.sgd(0.1, momentum=0.9), [G1, G2], np.zeros(2))
    np.testing.assert_allclose(p1, [-0.1, 0.2])
    np.testing.assert_allclose(p2, [-0.1 - 0.14, 0.2 - 0.22])
    np.testing.assert_allclose(state["velocity"], [1.4, 2.2])
    assert int(state["count"]) == 2


def test_sgd_nesterov_by_hand():
    # update = -lr (g + mu v_new): step 1: -0.1 (g1 + 0.9 g1) ; step 2: -0.1 (g2 + 0.9 [1.4, 2.2])
    (p1, p2), _ = _run(optim.sgd(0.1, momentum=0.9, nesterov=True), [G1, G2], np.zeros(2))
    np.testing.assert_allclose(p1, [-0.19, 0.38])
    np.testing.assert_allclose(p2, p1 - 0.1 * (G2 + 0.9 * np.array([1.4, 2.2])))


def test_adam_two_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    (p1, p2), state = _run(optim.adam(lr, b1, b2, eps), [G1, G2], np.zeros(2))
    # step 1: m̂ = g, v̂ = g², update = -lr g / (|g| + eps)
    np.testing.assert_allclose(p1, [-0.01, 0.01], rtol=1e-7)
    m = 0.9 * 0.1 * G1 + 0.1 * G2                # [0.14, 0.22]
    v = 0.999 * 0.001 * G1 ** 2 + 0.001 * G2 ** 2
    mhat, vhat = m / (1 - 0.9 ** 2), v / (1 - 0.999 ** 2)
    np.testing.assert_allclose(p2, p1 - lr * mhat / (np.sqrt(vhat) + eps), rtol=1e-12)
    np.testing.assert_allclose(state["mu"], m)
    np.testing.assert_allclose(state["nu"], v)


def test_adamw_decays_decoupled_from_the_gradient():
    p0 = np.array([2.0, -1.0])
    (p1,), _ = _run(optim.adamw(0.1, weight_decay=0.5), [G1], p0)
    np.testing.assert_allclose(p1, p0 - 0.1 * np.sign(G1) - 0.1 * 0.5 * p0, rtol=1e-7)
    with pytest.raises(ValueError, match="needs params"):
        opt = optim.adamw(0.1)
        opt.update(G1, opt.init(p0))


@pytest.mark.parametrize("name", ["sgd_momentum", "nesterov", "adam", "adamw"])
def test_matches_pytorch_over_several_steps(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(6)]
    ours, theirs = {
        "sgd_momentum": (optim.sgd(0.05, momentum=0.8),
                         lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8)),
        "nesterov": (optim.sgd(0.05, momentum=0.8, nesterov=True),
                     lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.8, nesterov=True)),
        "adam": (optim.adam(0.03), lambda p: torch.optim.Adam([p], lr=0.03)),
        "adamw": (optim.adamw(0.03, weight_decay=0.1),
                  lambda p: torch.optim.AdamW([p], lr=0.03, weight_decay=0.1)),
    }[name]
    got, _ = _run(ours, grads, p0)
    tp = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    topt = theirs(tp)
    for k, g in enumerate(grads):
        tp.grad = torch.tensor(g, dtype=torch.float64)
        topt.step()
        np.testing.assert_allclose(got[k], tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_optimizers_keep_the_pytree_structure_and_dtype():
    params = {"a": [np.ones(2, np.float32), np.zeros((2, 2))], "b": np.float64(1.0)}
    grads = {"a": [np.ones(2, np.float32), np.ones((2, 2))], "b": np.float64(2.0)}
    for opt in (optim.sgd(0.1, momentum=0.5), optim.adam(0.1), optim.adamw(0.1)):
        (p1,), _ = _run(opt, [grads], params)
        assert p1["a"][0].dtype == np.float32 and p1["a"][1].shape == (2, 2)
        assert float(p1["b"]) < 1.0


def test_clip_by_global_norm():
    clip = optim.clip_by_global_norm(2.0)
    g = {"x": np.array([3.0]), "y": [np.array([[4.0]])]}  # global norm 5
    out, _ = clip.update(g, clip.init(None))
    np.testing.assert_allclose(out["x"], [1.2])
    np.testing.assert_allclose(out["y"][0], [[1.6]])
    assert math.isclose(optim.global_norm(out), 2.0)
    small = {"x": np.array([0.3])}
    assert clip.update(small, {})[0] is small
    with pytest.raises(ValueError, match="max_norm"):
        optim.clip_by_global_norm(0)


def test_chain_clips_then_steps():
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.sgd(0.1, momentum=0.9))
    (p1, p2), state = _run(opt, [np.array([30.0, 40.0]), np.array([0.0, 0.5])], np.zeros(2))
    np.testing.assert_allclose(p1, [-0.06, -0.08])
    np.testing.assert_allclose(state[1]["velocity"], 0.9 * np.array([0.6, 0.8]) + [0, 0.5])
    with pytest.raises(TypeError, match="transform 0"):
        optim.chain(lambda g: g)


def test_schedule_drives_the_learning_rate_per_update():
    sched = optim.step_schedule(1.0, step_size=2, gamma=0.5)
    (p1, p2, p3), _ = _run(optim.sgd(sched), [np.ones(1)] * 3, np.zeros(1))
    np.testing.assert_allclose([p1[0], p2[0], p3[0]], [-1.0, -2.0, -2.5])


def test_warmup_cosine_schedule_values():
    s = optim.warmup_cosine_schedule(2.0, warmup_steps=4, total_steps=12, init_value=0.4,
                                     end_value=0.2)
    assert s(0) == pytest.approx(0.4)
    assert s(2) == pytest.approx(1.2)
    assert s(4) == pytest.approx(2.0)
    assert s(8) == pytest.approx(0.2 + 0.9 * (1 + math.cos(math.pi / 2)))
    assert s(12) == pytest.approx(0.2) and s(100) == pytest.approx(0.2)
    values = [s(k) for k in range(4, 13)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError, match="warmup_steps"):
        optim.warmup_cosine_schedule(1.0, 10, 10)
    assert optim.constant_schedule(0.3)(7) == 0.3


@pytest.mark.parametrize("make, match", [
    (lambda: optim.sgd(-1.0), "learning_rate"),
    (lambda: optim.sgd(0.1, momentum=1.0), "momentum"),
    (lambda: optim.sgd(0.1, nesterov=True), "nesterov"),
    (lambda: optim.adam(0.1, b1=1.5), "b1"),
    (lambda: optim.adam(0.1, eps=0), "eps"),
    (lambda: optim.adamw(0.1, weight_decay=-1), "weight_decay"),
    (lambda: optim.step_schedule(1.0, 0), "step_size"),
])
def test_bad_hyperparameters_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_adam_minimises_a_quadratic():
    target = np.array([3.0, -1.0, 0.5])
    opt = optim.adam(0.1)
    p = np.zeros(3)
    state = opt.init(p)
    for _ in range(500):
        upd, state = opt.update(2 * (p - target), state, p)
        p = optim.apply_updates(p, upd)
    np.testing.assert_allclose(p, target, atol=1e-3)
