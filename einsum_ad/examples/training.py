"""The training loop shared by the example runs: minibatches, progress bar, summary, plot."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field

import numpy as np

import einsum_ad as ea
from einsum_ad import optim
from einsum_ad.data import minibatches, save_params

__all__ = ["RunResult", "OutputError", "fit", "evaluate", "finish", "load_digits_split",
           "single_threaded_blas", "PLOT_FORMATS"]


def single_threaded_blas(run):
    """Run ``run`` with BLAS limited to one thread (through threadpoolctl, when installed).

    The examples multiply small matrices (tens to hundreds of rows): a second BLAS thread
    has nothing to do but wait, and on a busy machine its spin-waiting made each product
    10-30x slower (a 30-epoch digits run went from 0.7 s to 47 s while other jobs ran).
    """
    @functools.wraps(run)
    def wrapped(*args, **kwargs):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            limit = contextlib.nullcontext()
        else:
            limit = threadpool_limits(limits=1, user_api="blas")
        with limit:
            return run(*args, **kwargs)

    return wrapped


#: the ``--plot`` file formats (matplotlib picks the format from the extension)
PLOT_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg", "tif", "tiff", "webp", "eps", "ps")


@dataclass
class RunResult:
    """The figures of one training run (``to_json`` gives the ``--metrics`` file).

    ``test_accuracy``, ``train_accuracy`` and ``train_loss`` are of the trained parameters
    (evaluated once after training, on the held-out set and on the whole training set).
    ``epoch_losses`` and ``epoch_accuracies`` are, per epoch, the mean over that epoch's
    minibatches while the parameters changed: the curve the progress bar shows, not the
    figures of any one set of parameters (one epoch of the transformer gave a running
    accuracy of 78% for parameters scoring 100% on the training set).
    """

    task: str
    seed: int
    epochs: int
    test_accuracy: float
    train_seconds: float
    train_accuracy: float
    train_loss: float
    num_params: int
    test_examples: int
    train_examples: int
    epoch_losses: list = field(default_factory=list)
    epoch_accuracies: list = field(default_factory=list)
    unit: str = "examples"  # what test_examples and train_examples count (or "tokens")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def summary(self) -> str:
        return (f"{self.task}: test accuracy {100 * self.test_accuracy:.2f}% on "
                f"{self.test_examples} held-out {self.unit} | trained parameters on the "
                f"training set: accuracy {100 * self.train_accuracy:.2f}%, loss "
                f"{self.train_loss:.4f} | {self.epochs} epoch{'' if self.epochs == 1 else 's'} "
                f"in {self.train_seconds:.1f} s "
                f"| {self.num_params} parameters | seed {self.seed}")


class OutputError(Exception):
    """Writing some of a run's outputs failed after training (the summary was printed).

    ``failures`` holds ``(option, path, reason)`` for each output that could not be
    written; the others were written.
    """

    def __init__(self, failures):
        self.failures = list(failures)
        super().__init__("; ".join(f"--{o} {p}: {r}" for o, p, r in self.failures))


def _progress(total, desc, enabled):
    """A tqdm bar over epochs, or None when disabled (or when tqdm is not installed)."""
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="epoch", file=sys.stderr, dynamic_ncols=True)


def fit(loss_fn, params, optimizer, data, epochs, batch_size, seed, desc, progress=True):
    """Train ``params`` by minibatch gradient descent.

    Args:
        loss_fn: ``loss_fn(params, *batch) -> (loss, accuracy)``; the accuracy is an aux
            output (a plain float).
        params: the initial parameters (a pytree).
        optimizer: an :class:`einsum_ad.optim.Optimizer`.
        data: a tuple of training arrays aligned along axis 0.
        epochs, batch_size: the schedule.
        seed: seeds the shuffling.
        desc: the progress bar's label.
        progress: show a tqdm progress bar with loss and accuracy per epoch (on stderr).

    Returns:
        ``(params, losses, accuracies, seconds)``: per epoch, the mean over its minibatches
        of the loss and the accuracy (running figures, taken while the parameters changed;
        :func:`evaluate` gives those of the trained parameters), and the wall time of the
        loop.
    """
    step = ea.value_and_grad(loss_fn, has_aux=True)
    state = optimizer.init(params)
    rng = np.random.default_rng(seed)
    losses, accs = [], []
    bar = _progress(epochs, desc, progress)
    start = time.perf_counter()
    try:
        for epoch in range(epochs):
            total_loss = total_acc = 0.0
            count = 0
            for batch in minibatches(*data, batch_size=batch_size, rng=rng):
                (loss, acc), grads = step(params, *batch)
                updates, state = optimizer.update(grads, state, params)
                params = optim.apply_updates(params, updates)
                n = len(batch[0])
                total_loss += float(loss) * n
                total_acc += float(acc) * n
                count += n
            losses.append(total_loss / count)
            accs.append(total_acc / count)
            if not np.isfinite(losses[-1]):
                raise FloatingPointError(f"{desc}: the training loss became {losses[-1]} in "
                                         f"epoch {epoch + 1}")
            if bar is not None:
                bar.set_postfix(loss=f"{losses[-1]:.4f}", acc=f"{accs[-1]:.4f}")
                bar.update(1)
            elif progress:
                print(f"{desc} epoch {epoch + 1}/{epochs}: loss {losses[-1]:.4f} "
                      f"accuracy {accs[-1]:.4f}", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    return params, losses, accs, time.perf_counter() - start


def evaluate(loss_fn, params, data, batch_size=1000):
    """The mean loss and accuracy of ``params`` over all of ``data`` (no gradient).

    Args:
        loss_fn: as for :func:`fit`, ``loss_fn(params, *batch) -> (loss, accuracy)``.
        params: the parameters to score.
        data: a tuple of arrays aligned along axis 0.
        batch_size: examples per forward pass (bounds the memory, not the result).

    Returns:
        ``(loss, accuracy)`` as floats, means over the examples.
    """
    total_loss = total_acc = 0.0
    count = 0
    for batch in minibatches(*data, batch_size=batch_size, shuffle=False):
        loss, acc = loss_fn(params, *batch)
        n = len(batch[0])
        total_loss += float(loss) * n
        total_acc += float(acc) * n
        count += n
    return total_loss / count, total_acc / count


def count_params(params) -> int:
    """The number of scalars in all leaves of ``params``."""
    return int(sum(np.size(x) for x in ea.tree_leaves(params)))


def plot_curves(path, result: RunResult) -> None:
    """Save the per-epoch training loss and accuracy as a PNG (needs matplotlib)."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("--plot needs matplotlib: pip install -e '.[examples]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = os.fspath(path)
    epochs = np.arange(1, len(result.epoch_losses) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, result.epoch_losses, color="tab:blue")
    ax.plot([epochs[-1]], [result.train_loss], "o", color="tab:blue")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss", color="tab:blue")
    ax.set_yscale("log")
    ax2 = ax.twinx()
    ax2.plot(epochs, result.epoch_accuracies, color="tab:orange")
    ax2.plot([epochs[-1]], [result.train_accuracy], "o", color="tab:orange")
    ax2.set_ylabel("training accuracy", color="tab:orange")
    ax.set_title(f"{result.task}: test accuracy {100 * result.test_accuracy:.2f}%",
                 fontsize=10)
    fig.text(0.01, 0.01, "lines: mean over each epoch's minibatches, while training; "
             "dots: the trained parameters on the whole training set", fontsize=7)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    try:
        fig.savefig(path, dpi=100, format=os.path.splitext(path)[1][1:].lower() or None)
    finally:
        plt.close(fig)


def finish(result: RunResult, params, plot=None, metrics=None, save=None) -> RunResult:
    """Print the summary, then write the optional outputs (plot, metrics JSON, parameters).

    The summary comes first, so that a write failing after a long run loses nothing that
    was printed; every output is attempted, and those that failed are reported together.

    Raises:
        OutputError: naming the option, the path and the reason of each failed write.
    """
    print(result.summary(), flush=True)
    failures = []

    def write_metrics(path):
        with open(path, "w") as fh:
            fh.write(result.to_json() + "\n")

    for option, path, write in (("plot", plot, lambda p: plot_curves(p, result)),
                                ("metrics", metrics, write_metrics),
                                ("save", save, lambda p: save_params(p, params))):
        if not path:
            continue
        try:
            write(path)
        except OSError as exc:
            failures.append((option, os.fspath(path), exc.strerror or str(exc)))
        except (ValueError, RuntimeError) as exc:  # a format matplotlib refuses, no matplotlib
            failures.append((option, os.fspath(path), str(exc)))
    if failures:
        raise OutputError(failures)
    return result


def load_digits_split(test_fraction: float = 0.25):
    """scikit-learn's bundled 8x8 digits (no download), scaled to [0, 1], split stratified
    with a fixed seed so that every run is scored on the same held-out images."""
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise RuntimeError("the digits data set needs scikit-learn: "
                           "pip install -e '.[examples]'") from None
    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float64) / 16.0
    return train_test_split(x, y, test_size=test_fraction, random_state=0, stratify=y)
