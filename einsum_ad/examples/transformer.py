"""Train a small transformer to reverse sequences of digits (a synthetic task, no download).

Each example is a sequence of ``LENGTH`` random digits; the target at position ``i`` is the
input's digit at position ``LENGTH - 1 - i``. The model must learn to route each token by
attention. Run with ``einsum-ad train transformer``.
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
    single_threaded_blas,
)

__all__ = ["run", "make_data", "Reverser", "DEFAULT_EPOCHS", "LENGTH", "VOCAB"]

DEFAULT_EPOCHS = 12
LENGTH, VOCAB = 8, 10


def make_data(seed: int, train_size: int = 10000, test_size: int = 1000):
    """Random digit sequences and their reversals; no test sequence occurs in training."""
    rng = np.random.default_rng(seed)
    seqs = np.unique(rng.integers(0, VOCAB, size=(2 * (train_size + test_size), LENGTH)), axis=0)
    seqs = seqs[rng.permutation(len(seqs))][:train_size + test_size]
    x_train, x_test = seqs[:train_size], seqs[train_size:]
    return x_train, x_train[:, ::-1].copy(), x_test, x_test[:, ::-1].copy()


class Reverser(nn.Module):
    """Token + position embeddings, transformer blocks, a final norm and a Dense read-out."""

    def __init__(self, features=32, num_heads=4, num_layers=2, length=LENGTH, vocab=VOCAB):
        self.features, self.length, self.vocab = features, length, vocab
        self._embed = nn.Embedding(vocab, features)
        self._blocks = [nn.TransformerBlock(features, num_heads, hidden=2 * features)
                        for _ in range(num_layers)]
        self._norm = nn.LayerNorm(features)
        self._head = nn.Dense(features, vocab)

    def init(self, rng):
        rng = nn.init.as_generator(rng)
        return {"embed": self._embed.init(rng),
                "pos": rng.normal(0.0, 0.1, (self.length, self.features)),
                "blocks": [b.init(rng) for b in self._blocks],
                "norm": self._norm.init(rng), "head": self._head.init(rng)}

    def apply(self, params, tokens):
        x = self._embed(params["embed"], tokens) + params["pos"]     # (batch, length, c)
        for block, p in zip(self._blocks, params["blocks"]):
            x = block(p, x)
        return self._head(params["head"], self._norm(params["norm"], x))   # logits


@single_threaded_blas
def run(epochs: int | None = None, seed: int = 0, plot=None, metrics=None, save=None,
        progress: bool = True) -> RunResult:
    """Train the sequence-reversal transformer; the accuracy is per token on held-out data."""
    epochs = DEFAULT_EPOCHS if epochs is None else epochs
    x_train, y_train, x_test, y_test = make_data(seed)
    model = Reverser()
    params = model.init(seed)

    def loss_fn(params, x, y):
        logits = model(params, x)
        return nn.softmax_cross_entropy(logits, y), nn.accuracy(logits, y)

    batch = 64
    steps = epochs * -(-len(x_train) // batch)
    opt = optim.chain(optim.clip_by_global_norm(1.0),
                      optim.adam(optim.warmup_cosine_schedule(3e-3, steps // 20, steps)))
    params, losses, accs, seconds = fit(loss_fn, params, opt, (x_train, y_train), epochs,
                                        batch_size=batch, seed=seed, desc="transformer",
                                        progress=progress)
    test_acc = nn.accuracy(model(params, x_test), y_test)
    train_loss, train_acc = evaluate(loss_fn, params, (x_train, y_train))
    result = RunResult("transformer (reverse digits)", seed, epochs, test_acc, seconds,
                       train_acc, train_loss, count_params(params), y_test.size, y_train.size,
                       losses, accs, unit="tokens")
    return finish(result, params, plot, metrics, save)
