"""Losses (differentiable, averaged over examples) and metrics (plain numpy).

Predictions may be arrays of any backend, traced values, or (nested) lists and numbers,
taken as the arrays they spell; targets and labels are data, given as NumPy arrays (or
lists) or as arrays of the predictions' library, and join the predictions' library, device
and dtype. The losses compute with einsum_ad operations only."""

from __future__ import annotations

import math

import numpy as np

import einsum_ad as ea

from .layers import _as_input, _host, _like, _one_hot

__all__ = ["mse", "softmax_cross_entropy", "binary_cross_entropy_with_logits", "accuracy"]


def _targets(t, like):
    """Targets as an array of ``like``'s library and dtype (a NumPy array or list is
    converted onto ``like``'s device; an array of ``like``'s library is cast)."""
    if _backend_of(t) is _backend_of(like):
        return t if t.dtype == like.dtype else ea.astype(t, like.dtype)
    return _like(_host(t), like)


def _backend_of(x):
    return ea.backend.of(ea.core.unwrap(x))


def _same_shape(a, b, fname):
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"{fname}: predictions have shape {tuple(a.shape)} but targets have "
                         f"shape {tuple(b.shape)}")


def _classes_axis(logits, fname):
    if logits.ndim < 1:
        raise ValueError(f"{fname}: logits must have a last axis of classes, shape "
                         "(..., classes); got a 0-d array")


def _full(ndim):
    """Subscripts naming every axis of an ``ndim``-d array: ``_full(3) == "abc"``."""
    return "abcdefghijklmnopqrstuvwxyz"[:ndim]


def mse(predictions, targets):
    """Mean squared error over every element.

    Examples:
        >>> import numpy as np
        >>> float(mse(np.array([1.0, 2.0]), np.array([0.0, 0.0])))
        2.5
    """
    predictions = _as_input(predictions, "predictions", "mse")
    targets = _as_input(targets, "targets", "mse")
    _same_shape(predictions, targets, "mse")
    r = predictions - _targets(targets, predictions)
    s = _full(r.ndim)
    return ea.einsum(f"{s},{s}->", r, r) / max(1, math.prod(r.shape))


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of integer ``labels`` under ``softmax(logits)``, from the logits.

    Computed as ``logsumexp(z) - z[label]`` through a stable ``log_softmax`` (the maximum is
    subtracted first), so large logits do not overflow. The label's logit is picked by an
    einsum with the (constant) one-hot labels.

    Args:
        logits: shape ``(..., classes)``.
        labels: integers of shape ``(...)``, in ``[0, classes)``.

    Examples:
        >>> import numpy as np
        >>> round(float(softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))), 3)
        1000.0
    """
    logits = _as_input(logits, "logits", "softmax_cross_entropy")
    _classes_axis(logits, "softmax_cross_entropy")
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"softmax_cross_entropy: labels must be an array of integers, got "
                        f"{type(labels).__name__}")
    labels = _host(labels)  # integer class ids: a constant, never differentiated
    if tuple(logits.shape[:-1]) != labels.shape:
        raise ValueError(f"softmax_cross_entropy: logits have shape {tuple(logits.shape)}, so "
                         f"labels need shape {tuple(logits.shape[:-1])}, got {labels.shape}")
    hot = _like(_one_hot(labels, logits.shape[-1], np.float64, "softmax_cross_entropy",
                         "labels"), logits)
    s = _full(logits.ndim)
    picked = ea.einsum(f"{s},{s}->", ea.log_softmax(logits, axis=-1), hot)
    return -picked / max(1, labels.size)


def binary_cross_entropy_with_logits(logits, targets):
    """Mean binary cross-entropy of ``targets`` in [0, 1] under ``sigmoid(logits)``.

    Computed as ``softplus(z) - z*y`` with the stable ``softplus`` primitive, whose
    derivative is ``sigmoid(z)``: the gradient is ``sigmoid(z) - y`` everywhere, ``z = 0``
    included (the kinked form ``max(z, 0) + log(1 + exp(-|z|))`` has derivative 0 there).

    Examples:
        >>> import numpy as np
        >>> round(float(binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0]))), 4)
        0.6931
    """
    fname = "binary_cross_entropy_with_logits"
    logits = _as_input(logits, "logits", fname)
    targets = _as_input(targets, "targets", fname)  # a list: the NumPy array it spells
    _same_shape(logits, targets, fname)
    targets = _targets(targets, logits)
    loss = ea.softplus(logits) - logits * targets
    return ea.einsum(f"{_full(loss.ndim)}->", loss) / max(1, math.prod(targets.shape))


def accuracy(logits, labels) -> float:
    """The fraction of rows whose largest logit is at the label (a plain float).

    Examples:
        >>> import numpy as np
        >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
        0.5
    """
    logits = _as_input(logits, "logits", "accuracy")
    logits = _host(logits)  # a metric: a plain number, read on the host
    _classes_axis(logits, "accuracy")
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"accuracy: labels must be an array of integers, got "
                        f"{type(labels).__name__}")
    labels = _host(labels)
    if logits.shape[:-1] != labels.shape:
        raise ValueError(f"accuracy: logits have shape {logits.shape}, so labels need shape "
                         f"{logits.shape[:-1]}, got {labels.shape}")
    if labels.size == 0:
        raise ValueError("accuracy: no examples")
    return float(np.mean(np.argmax(logits, axis=-1) == labels))
