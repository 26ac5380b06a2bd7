"""Train a matrix-product-state (tensor-train) classifier on scikit-learn's bundled digits.

Each of the 64 pixels ``x`` in [0, 1] becomes a local feature vector ``(1, x)``; the MPS
contracts one core per pixel (see :class:`einsum_ad.nn.MPS`). Run with
``einsum-ad train mps``.
"""

from __future__ import annotations

import numpy as np

from einsum_ad import nn, optim
from einsum_ad.examples.training import (
    RunResult,
    count_params,
    evaluate,
    finish,
    fit,
    load_digits_split,
    single_threaded_blas,
)

__all__ = ["run", "features", "DEFAULT_EPOCHS", "BOND_DIM"]

DEFAULT_EPOCHS = 20
BOND_DIM = 10


def features(x):
    """Pixels ``(batch, 64)`` to local feature vectors ``(batch, 64, 2)``: ``(1, x)``."""
    return np.stack([np.ones_like(x), x], axis=-1)


@single_threaded_blas
def run(epochs: int | None = None, seed: int = 0, plot=None, metrics=None, save=None,
        progress: bool = True) -> RunResult:
    """Train the MPS classifier and return its figures."""
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    x_train, x_test, y_train, y_test = load_digits_split()
    model = nn.MPS(num_sites=64, phys_dim=2, bond_dim=BOND_DIM, out_features=10)
    params = model.init(seed)

    def loss_fn(params, phi, y):
        logits = model(params, phi)
        return nn.softmax_cross_entropy(logits, y), nn.accuracy(logits, y)

    batch = 32
    steps = epochs * -(-len(x_train) // batch)
    opt = optim.chain(optim.clip_by_global_norm(5.0),
                      optim.adam(optim.warmup_cosine_schedule(5e-3, steps // 20, steps)))
    params, losses, accs, seconds = fit(loss_fn, params, opt, (features(x_train), y_train),
                                        epochs, batch_size=batch, seed=seed, desc="MPS",
                                        progress=progress)
    test_acc = nn.accuracy(model(params, features(x_test)), y_test)
    train_loss, train_acc = evaluate(loss_fn, params, (features(x_train), y_train))
    result = RunResult(f"MPS classifier (bond {BOND_DIM})", seed, epochs, test_acc, seconds,
                       train_acc, train_loss, count_params(params), len(y_test), len(y_train),
                       losses, accs)
    return finish(result, params, plot, metrics, save)
