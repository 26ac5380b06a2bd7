"""A short demo: a two-layer model written as einsum expressions, trained by gradient descent.

Run with ``python -m einsum_ad.demo``. It prints the gradients of the first step and a
falling loss.
"""

from __future__ import annotations

import numpy as np

import einsum_ad as ea


def model(params, x):
    """``x -> W2 (W1 x)²``: two einsum layers with a squaring (multilinear) activation."""
    h = ea.einsum("bi,hi->bh", x, params["W1"])
    h = h * h  # a multilinear activation: also an einsum node
    return ea.einsum("bh,oh->bo", h, params["W2"])


def loss(params, x, y):
    r = model(params, x) - y
    return ea.einsum("bo,bo->", r, r) / x.shape[0]


def main(steps: int = 60, lr: float = 0.05, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 3))
    y = (x[:, :1] * x[:, 1:2]) + 0.5 * x[:, 2:] ** 2  # a target the model can represent
    params = {"W1": 0.5 * rng.standard_normal((8, 3)), "W2": 0.5 * rng.standard_normal((1, 8))}
    losses = []
    for step in range(steps):
        value, grads = ea.value_and_grad(loss)(params, x, y)
        if step == 0:
            for name in sorted(grads):
                print(f"d loss / d {name} (shape {grads[name].shape}):")
                print(np.array2string(grads[name], precision=3, suppress_small=True))
        params = {k: params[k] - lr * grads[k] for k in params}
        losses.append(float(value))
        if step % 10 == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {float(value):.5f}")
    print(f"loss fell from {losses[0]:.4f} to {losses[-1]:.4f}")
    return losses


if __name__ == "__main__":
    main()
