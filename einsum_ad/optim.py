"""Optimizers over pytrees as ``(init, update)`` pairs with explicit state, and schedules.

An optimizer is an :class:`Optimizer` named tuple of two pure functions::

    opt = optim.adam(1e-3)
    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = optim.apply_updates(params, updates)

``updates`` are what to *add* to the parameters (the learning rate and sign included). The
state is a plain pytree of arrays of the parameters' library and device (NumPy's can be
saved with :func:`einsum_ad.data.save_params`).
A learning rate may be a number or a schedule: a function of the update count (0 for the
first update) returning the rate. Transformations compose with :func:`chain`, e.g.
``chain(clip_by_global_norm(1.0), adam(1e-3))``. Everything here computes on the
gradients' values in their own library (NumPy, torch, ...) through its backend; nothing is
traced.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import backend as _backend
from .tree import tree_leaves, tree_map

__all__ = ["Optimizer", "sgd", "adam", "adamw", "clip_by_global_norm", "chain",
           "apply_updates", "global_norm", "constant_schedule", "step_schedule",
           "warmup_cosine_schedule"]


class Optimizer(NamedTuple):
    """A pair of pure functions.

    ``init(params) -> state``; ``update(grads, state, params=None) -> (updates, state)``.
    """

    init: Callable
    update: Callable


# ------------------------------------------------------------------------- helpers


def _array(x):
    """``x`` as an array of its library (numbers and lists: NumPy), and that backend."""
    b = _backend.of(x)
    if b is None:
        b = _backend.default()
        x = b.asarray(x)
    return x, b


def _zeros_like(tree):
    """Zeros like each leaf: its library, device and floating dtype (float64 for others)."""
    def zeros(p):
        p, b = _array(p)
        dt = p.dtype if _backend.kind(p.dtype) in "fc" else b.float64
        return b.zeros(tuple(p.shape), dtype=dt, device=b.device(p))
    return tree_map(zeros, tree)


def _untracked(tree):
    """The context in which the library of ``tree``'s arrays records no autodiff graph of
    its own (torch: ``torch.no_grad``: an update of parameters that require grad must not
    chain the steps in torch's graph), else a null context."""
    for leaf in tree_leaves(tree):
        b = _backend.of(leaf)
        if b is not None:
            return b.untracked() if b.untracked is not None else contextlib.nullcontext()
    return contextlib.nullcontext()


def _abs2(g):
    g, b = _array(g)
    a = b.abs(g)
    return a * a


def _sqrt(v):
    v, b = _array(v)
    return b.sqrt(v)


def _rate(lr, count):
    """The learning rate for update number ``count`` (a number or a schedule)."""
    return float(lr(int(count)) if callable(lr) else lr)


def _check_rate(lr, name):
    if not callable(lr) and not (isinstance(lr, (int, float, np.number)) and lr >= 0):
        raise ValueError(f"{name}: learning_rate must be a non-negative number or a schedule, "
                         f"got {lr!r}")


def _check_unit(value, arg, name, closed_low=True):
    ok = (0.0 <= value < 1.0) if closed_low else (0.0 < value < 1.0)
    if not ok:
        interval = "[0, 1)" if closed_low else "(0, 1)"
        raise ValueError(f"{name}: {arg} must lie in {interval}, got {value}")


def global_norm(tree) -> float:
    """The Euclidean norm of all leaves of ``tree`` taken together (a float, computed on
    the host: arrays on a device are copied there).

    Examples:
        >>> import numpy as np
        >>> global_norm({"a": np.array([3.0]), "b": np.array([[4.0]])})
        5.0
        >>> round(global_norm([np.float32(3e20), np.float32(4e20)]) / 1e20, 5)  # no overflow
        5.0
    """
    # scaled by the largest magnitude, in float64: float32 gradients of 1e20 (exactly when
    # clipping matters) would overflow a plain sum of squares to inf
    mags = [np.abs(np.asarray(b.to_numpy(x))).astype(np.float64)
            for x, b in map(_array, tree_leaves(tree))]
    mags = [m for m in mags if m.size]
    if not mags:
        return 0.0
    top = max(float(np.max(m)) for m in mags)
    if top == 0.0 or not math.isfinite(top):
        return top  # all zero, or an inf / NaN that the norm carries on
    return top * math.sqrt(sum(float(np.sum(np.square(m / top))) for m in mags))


def apply_updates(params, updates):
    """``params + updates`` leafwise, keeping each parameter's dtype.

    Examples:
        >>> import numpy as np
        >>> apply_updates({"w": np.ones(2)}, {"w": np.array([0.5, -1.0])})
        {'w': array([1.5, 0. ])}
    """
    def apply(p, u):
        p, b = _array(p)
        return b.astype(p + u, p.dtype)
    with _untracked(params):
        return tree_map(apply, params, updates)


# ---------------------------------------------------------------------- optimizers


def sgd(learning_rate, momentum: float = 0.0, nesterov: bool = False) -> Optimizer:
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    With momentum ``mu``: ``v <- mu v + g`` and the update is ``-lr v`` (or
    ``-lr (g + mu v)`` with Nesterov), as in PyTorch's ``SGD``.

    Args:
        learning_rate: a number or a schedule ``count -> rate``.
        momentum: the momentum coefficient in ``[0, 1)``; 0 for plain SGD.
        nesterov: use Nesterov's look-ahead form (needs ``momentum > 0``).

    Examples:
        >>> import numpy as np
        >>> opt = sgd(0.1)
        >>> upd, state = opt.update({"w": np.array([1.0, -2.0])}, opt.init({"w": np.zeros(2)}))
        >>> upd["w"]
        array([-0.1,  0.2])
    """
    _check_rate(learning_rate, "sgd")
    _check_unit(momentum, "momentum", "sgd")
    if nesterov and momentum == 0:
        raise ValueError("sgd: nesterov=True needs a momentum > 0")

    def init(params):
        state = {"count": np.zeros((), np.int64)}
        if momentum:
            state["velocity"] = _zeros_like(params)
        return state

    def update(grads, state, params=None):
        lr = _rate(learning_rate, state["count"])
        new = {"count": state["count"] + 1}
        if not momentum:
            return tree_map(lambda g: -lr * _array(g)[0], grads), new
        vel = tree_map(lambda v, g: momentum * v + g, state["velocity"], grads)
        new["velocity"] = vel
        if nesterov:
            upd = tree_map(lambda g, v: -lr * (g + momentum * v), grads, vel)
        else:
            upd = tree_map(lambda v: -lr * v, vel)
        return upd, new

    return Optimizer(init, update)


def _adam_core(name, learning_rate, b1, b2, eps, weight_decay):
    _check_rate(learning_rate, name)
    _check_unit(b1, "b1", name)
    _check_unit(b2, "b2", name)
    if not eps > 0:  # written so that NaN is refused too
        raise ValueError(f"{name}: eps must be positive, got {eps}")
    if not weight_decay >= 0:
        raise ValueError(f"{name}: weight_decay must be non-negative, got {weight_decay}")

    def init(params):
        return {"count": np.zeros((), np.int64), "mu": _zeros_like(params),
                "nu": _zeros_like(params)}

    def update(grads, state, params=None):
        if weight_decay and params is None:
            raise ValueError(f"{name}: update needs params when weight_decay > 0")
        count = state["count"]
        lr = _rate(learning_rate, count)
        t = int(count) + 1
        mu = tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["mu"], grads)
        nu = tree_map(lambda v, g: b2 * v + (1 - b2) * _abs2(g), state["nu"], grads)
        c1, c2 = 1 - b1 ** t, 1 - b2 ** t

        def step(m, v):
            return -lr * (m / c1) / (_sqrt(v / c2) + eps)

        upd = tree_map(step, mu, nu)
        if weight_decay:
            with _untracked(params):
                upd = tree_map(lambda u, p: u - lr * weight_decay * _array(p)[0], upd, params)
        return upd, {"count": count + 1, "mu": mu, "nu": nu}

    return Optimizer(init, update)


def adam(learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam (Kingma & Ba), with bias correction.

    ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g²``, update
    ``-lr m̂ / (sqrt(v̂) + eps)`` with ``m̂ = m / (1 - b1^t)``, ``v̂ = v / (1 - b2^t)``.

    Args:
        learning_rate: a number or a schedule ``count -> rate``.
        b1, b2: decay rates of the first and second moment estimates, in ``[0, 1)``.
        eps: added to the denominator for stability.

    Examples:
        >>> import numpy as np
        >>> opt = adam(0.1)
        >>> upd, _ = opt.update(np.array([2.0, -0.5]), opt.init(np.zeros(2)))
        >>> np.round(upd, 6)   # the first Adam step is -lr * sign(g)
        array([-0.1,  0.1])
    """
    return _adam_core("adam", learning_rate, b1, b2, eps, 0.0)


def adamw(learning_rate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
          weight_decay: float = 1e-2) -> Optimizer:
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's ``AdamW``.

    The update is Adam's plus ``-lr * weight_decay * params``; ``update`` needs ``params``.
    """
    return _adam_core("adamw", learning_rate, b1, b2, eps, weight_decay)


def clip_by_global_norm(max_norm: float) -> Optimizer:
    """A transformation scaling the gradients so that their global norm is at most ``max_norm``.

    Use it first in a :func:`chain`. Its state is empty.

    Examples:
        >>> import numpy as np
        >>> clip = clip_by_global_norm(1.0)
        >>> clip.update({"a": np.array([3.0, 4.0])}, clip.init(None))[0]
        {'a': array([0.6, 0.8])}
    """
    if not max_norm > 0:
        raise ValueError(f"clip_by_global_norm: max_norm must be positive, got {max_norm}")

    def init(params):
        return {}

    def update(grads, state, params=None):
        norm = global_norm(grads)
        if norm <= max_norm:
            return grads, state
        scale = max_norm / norm
        return tree_map(lambda g: _array(g)[0] * scale, grads), state

    return Optimizer(init, update)


def chain(*transforms: Optimizer) -> Optimizer:
    """Apply transformations in order: each one's updates are the next one's gradients.

    Examples:
        >>> import numpy as np
        >>> opt = chain(clip_by_global_norm(1.0), sgd(0.5))
        >>> opt.update(np.array([6.0, 8.0]), opt.init(np.zeros(2)))[0]
        array([-0.3, -0.4])
    """
    for k, t in enumerate(transforms):
        if not isinstance(t, Optimizer):
            raise TypeError(f"chain: transform {k} is a {type(t).__name__}, not an Optimizer")

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(grads, state, params=None):
        new_state = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, params)
            new_state.append(s)
        return grads, tuple(new_state)

    return Optimizer(init, update)


# ------------------------------------------------------------------------ schedules


def constant_schedule(value: float) -> Callable[[int], float]:
    """A schedule returning ``value`` at every step."""
    return lambda count: float(value)


def step_schedule(init_value: float, step_size: int, gamma: float = 0.1) -> Callable:
    """Multiply the rate by ``gamma`` every ``step_size`` updates (PyTorch's ``StepLR``).

    Examples:
        >>> s = step_schedule(1.0, step_size=10, gamma=0.5)
        >>> [s(0), s(9), s(10), s(25)]
        [1.0, 1.0, 0.5, 0.25]
    """
    if int(step_size) < 1:
        raise ValueError(f"step_schedule: step_size must be at least 1, got {step_size}")
    return lambda count: float(init_value * gamma ** (int(count) // int(step_size)))


def warmup_cosine_schedule(peak_value: float, warmup_steps: int, total_steps: int,
                           init_value: float = 0.0, end_value: float = 0.0) -> Callable:
    """Linear warm-up from ``init_value`` to ``peak_value``, then cosine decay to ``end_value``.

    The rate reaches ``peak_value`` at step ``warmup_steps`` and ``end_value`` at
    ``total_steps`` (and stays there).

    Examples:
        >>> s = warmup_cosine_schedule(1.0, warmup_steps=10, total_steps=110)
        >>> [round(s(k), 3) for k in (0, 5, 10, 60, 110, 200)]
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    warmup_steps, total_steps = int(warmup_steps), int(total_steps)
    if warmup_steps < 0 or total_steps <= warmup_steps:
        raise ValueError(
            f"warmup_cosine_schedule: need 0 <= warmup_steps < total_steps, got warmup_steps="
            f"{warmup_steps}, total_steps={total_steps}")

    def schedule(count):
        count = int(count)
        if count < warmup_steps:
            return float(init_value + (peak_value - init_value) * count / warmup_steps)
        frac = min(1.0, (count - warmup_steps) / (total_steps - warmup_steps))
        return float(end_value + 0.5 * (peak_value - end_value) * (1 + math.cos(math.pi * frac)))

    return schedule
