"""Train an MLP, written as einsum expressions, on scikit-learn's bundled handwritten digits.

Run with ``einsum-ad train digits`` (or ``python -m einsum_ad train digits``).
"""

from __future__ import annotations

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

DEFAULT_EPOCHS = 30


@single_threaded_blas
def run(epochs: int | None = None, seed: int = 0, plot=None, metrics=None, save=None,
        progress: bool = True) -> RunResult:
    """Train the digits MLP and return its figures (see :class:`RunResult`)."""
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    x_train, x_test, y_train, y_test = load_digits_split()
    model = nn.MLP([64, 256, 10], activation="relu")
    params = model.init(seed)

    def loss_fn(params, x, y):
        logits = model(params, x)                # einsum("...i,oi->...o", x, W) + b, twice
        return nn.softmax_cross_entropy(logits, y), nn.accuracy(logits, y)

    steps = epochs * -(-len(x_train) // 32)
    opt = optim.adamw(optim.warmup_cosine_schedule(3e-3, steps // 20, steps),
                      weight_decay=1e-4)
    params, losses, accs, seconds = fit(loss_fn, params, opt, (x_train, y_train), epochs,
                                        batch_size=32, seed=seed, desc="digits MLP",
                                        progress=progress)
    test_acc = nn.accuracy(model(params, x_test), y_test)
    train_loss, train_acc = evaluate(loss_fn, params, (x_train, y_train))
    result = RunResult("digits MLP", seed, epochs, test_acc, seconds, train_acc, train_loss,
                       count_params(params), len(y_test), len(y_train), losses, accs)
    return finish(result, params, plot, metrics, save)


__all__ = ["run", "DEFAULT_EPOCHS"]
