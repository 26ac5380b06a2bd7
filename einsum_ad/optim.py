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
first update) returning the rate. Constants are checked by the constructors, a schedule's
values each time one is applied: NaN, an infinity or a negative rate raises ValueError
naming the optimizer, the update count and the value. ``update`` refuses the state of
another optimizer (TypeError naming both), and :func:`apply_updates` an update whose shape
differs from its parameter's. Transformations compose with :func:`chain`, e.g.
``chain(clip_by_global_norm(1.0), adam(1e-3))``. Everything here computes on the
gradients' values in their own library (NumPy, torch, ...) through its backend; nothing is
traced.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import backend as _backend
from .tree import tree_flatten, tree_leaves, tree_map

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


def _real(value, arg, name, positive=False):
    """``value`` as a float after checking it is a finite, non-negative (or positive) number.

    TypeError for what is not a real number (a bool, a string, an array), ValueError for
    NaN, an infinity or a value below the bound, naming the function ``name`` and ``arg``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {arg} must be a real number, got {type(value).__name__} "
                        f"{value!r}")
    value = float(value)
    if math.isinf(value):
        raise ValueError(f"{name}: {arg} must be finite, got {value}")
    if not (value > 0 if positive else value >= 0):  # NaN fails both
        raise ValueError(f"{name}: {arg} must be "
                         f"{'positive' if positive else 'non-negative'}, got {value}")
    return value


def _count(value, arg, name, minimum):
    """An integer argument (not a bool, not a float such as 2.5) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {arg} must be an integer, got {type(value).__name__} "
                        f"{value!r}")
    if value < minimum:
        raise ValueError(f"{name}: {arg} must be at least {minimum}, got {value}")
    return int(value)


def _check_rate(lr, name):
    """A constant learning rate must be finite and non-negative; a schedule is checked
    each time it is applied (:func:`_rate`)."""
    if callable(lr):
        return
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"{name}: learning_rate must be a number or a schedule (a function "
                        f"of the update count), got {type(lr).__name__} {lr!r}")
    if not (math.isfinite(lr) and lr >= 0):
        raise ValueError(f"{name}: learning_rate must be a finite, non-negative number or a "
                         f"schedule, got {lr!r}")


def _rate(lr, count, name):
    """The learning rate of update number ``count`` (0 for the first update).

    A schedule's value is checked here, where it is applied: NaN would make every
    parameter NaN, an infinity sends them to infinity and a negative rate turns descent
    into ascent, all silently.
    """
    if not callable(lr):
        return float(lr)  # checked once, by the constructor
    count = int(count)
    value = lr(count)
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.ndarray)) \
            or np.ndim(value) != 0:
        raise TypeError(f"{name}: the learning-rate schedule returned {value!r} for update "
                        f"{count}; a schedule must return a number")
    rate = float(value)
    if not (math.isfinite(rate) and rate >= 0):
        raise ValueError(f"{name}: the learning-rate schedule returned {rate} for update "
                         f"{count} (counted from 0); a learning rate must be finite and "
                         "non-negative")
    return rate


def _check_unit(value, arg, name, closed_low=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {arg} must be a real number, got {type(value).__name__} "
                        f"{value!r}")
    ok = (0.0 <= value < 1.0) if closed_low else (0.0 < value < 1.0)
    if not ok:  # NaN fails both comparisons
        interval = "[0, 1)" if closed_low else "(0, 1)"
        raise ValueError(f"{name}: {arg} must lie in {interval}, got {value}")


# --------------------------------------------------------- states and leaf shapes


def _leaf_paths(tree, prefix=""):
    """The path of every leaf, in :func:`einsum_ad.tree_flatten`'s order: ``['W'][0]``."""
    if isinstance(tree, dict):
        for key in sorted(tree):
            yield from _leaf_paths(tree[key], f"{prefix}[{key!r}]")
    elif isinstance(tree, (list, tuple)):
        for i, child in enumerate(tree):
            yield from _leaf_paths(child, f"{prefix}[{i}]")
    elif tree is not None:
        yield prefix


def _mismatch(tree, like):
    """None when ``tree`` has the structure of ``like`` and every leaf its leaf's shape;
    otherwise what differs, as ``(path, shape in tree, shape in like)`` or a sentence."""
    leaves, treedef = tree_flatten(tree)
    like_leaves, like_def = tree_flatten(like)
    if treedef != like_def:
        return f"the tree structures differ: {treedef} against {like_def}"
    for k, (a, b) in enumerate(zip(leaves, like_leaves)):
        if np.shape(a) != np.shape(b):
            path = list(_leaf_paths(tree))[k]
            return path, np.shape(a), np.shape(b)
    return None


def _describe(state) -> str:
    """What a state is, to say which optimizer it came from in an error message."""
    if isinstance(state, dict):
        keys = sorted(state, key=str)
        owner = {(): "clip_by_global_norm", ("count",): "sgd without momentum",
                 ("count", "velocity"): "sgd with momentum",
                 ("count", "mu", "nu"): "adam or adamw"}.get(tuple(keys))
        return f"a dict with keys {keys}" + (f" (the state of {owner})" if owner else "")
    if isinstance(state, (tuple, list)):
        return (f"a {type(state).__name__} of {len(state)} item(s)"
                + (" (the state of a chain)" if state else ""))
    return f"a {type(state).__name__}"


def _check_state(state, keys, name):
    """Refuse the state of another optimizer (or no state) before any key is read."""
    if not isinstance(state, dict) or set(state) != set(keys):
        want = f"a dict with keys {sorted(keys)}" if keys else "an empty dict"
        raise TypeError(f"{name}: update was given {_describe(state)}, not the state of "
                        f"this optimizer ({want}, as its init returns); pass the state that "
                        "this optimizer's init (or its previous update) returned")


def _check_moments(state, keys, grads, name):
    """The moment estimates in ``state`` must have the gradients' structure and shapes
    (numpy would broadcast a state initialised for other parameters)."""
    for key in keys:
        bad = _mismatch(state[key], grads)
        if bad is None:
            continue
        if isinstance(bad, str):
            raise ValueError(f"{name}: the state's {key!r} does not match the gradients: "
                             f"{bad}; was the state initialised for other parameters?")
        path, got, want = bad
        raise ValueError(f"{name}: the state's {key!r} has shape {got} at {path or 'its root'} "
                         f"where the gradient has shape {want}; was the state initialised for "
                         "other parameters?")


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
    """``params + updates`` leafwise, keeping each parameter's dtype and shape.

    Args:
        params: a pytree of arrays.
        updates: a pytree of the same structure whose every leaf has its parameter's shape
            (an update that would broadcast into a parameter and change its shape is
            refused: ValueError naming the leaf and both shapes).

    Returns:
        The updated parameters, a new pytree.

    Examples:
        >>> import numpy as np
        >>> apply_updates({"w": np.ones(2)}, {"w": np.array([0.5, -1.0])})
        {'w': array([1.5, 0. ])}
    """
    bad = _mismatch(updates, params)
    if isinstance(bad, str):
        raise ValueError(f"apply_updates: updates and params do not match: {bad}")
    if bad is not None:
        path, got, want = bad
        raise ValueError(f"apply_updates: the update of params{path} has shape {got} but the "
                         f"parameter has shape {want}; an update must have its parameter's "
                         "shape")

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

    keys = ("count", "velocity") if momentum else ("count",)

    def update(grads, state, params=None):
        _check_state(state, keys, "sgd")
        if momentum:
            _check_moments(state, ("velocity",), grads, "sgd")
        lr = _rate(learning_rate, state["count"], "sgd")
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
    eps = _real(eps, "eps", name, positive=True)
    weight_decay = _real(weight_decay, "weight_decay", name)

    def init(params):
        return {"count": np.zeros((), np.int64), "mu": _zeros_like(params),
                "nu": _zeros_like(params)}

    def update(grads, state, params=None):
        if weight_decay and params is None:
            raise ValueError(f"{name}: update needs params when weight_decay > 0")
        _check_state(state, ("count", "mu", "nu"), name)
        _check_moments(state, ("mu", "nu"), grads, name)
        count = state["count"]
        lr = _rate(learning_rate, count, name)
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
    max_norm = _real(max_norm, "max_norm", "clip_by_global_norm", positive=True)

    def init(params):
        return {}

    def update(grads, state, params=None):
        _check_state(state, (), "clip_by_global_norm")
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
        # zip() would stop at the shorter of the two: an empty (or short) state ran no
        # transform at all and returned the raw gradients as the updates (ascent, step 1)
        if not isinstance(state, (tuple, list)):
            raise TypeError(f"chain: update was given {_describe(state)}; the state of a "
                            f"chain of {len(transforms)} transform(s) is a tuple of "
                            f"{len(transforms)} states, as its init returns")
        if len(state) != len(transforms):
            raise ValueError(f"chain: update was given a state of {len(state)} item(s) for "
                             f"a chain of {len(transforms)} transform(s); pass the tuple "
                             "that this chain's init (or its previous update) returned")
        new_state = []
        for t, s in zip(transforms, state):
            grads, s = t.update(grads, s, params)
            new_state.append(s)
        return grads, tuple(new_state)

    return Optimizer(init, update)


# ------------------------------------------------------------------------ schedules


def constant_schedule(value: float) -> Callable[[int], float]:
    """A schedule returning ``value`` (finite, non-negative) at every step."""
    value = _real(value, "value", "constant_schedule")
    return lambda count: value


def step_schedule(init_value: float, step_size: int, gamma: float = 0.1) -> Callable:
    """Multiply the rate by ``gamma`` every ``step_size`` updates (PyTorch's ``StepLR``).

    Examples:
        >>> s = step_schedule(1.0, step_size=10, gamma=0.5)
        >>> [s(0), s(9), s(10), s(25)]
        [1.0, 1.0, 0.5, 0.25]
    """
    init_value = _real(init_value, "init_value", "step_schedule")
    step_size = _count(step_size, "step_size", "step_schedule", 1)
    gamma = _real(gamma, "gamma", "step_schedule")
    return lambda count: float(init_value * gamma ** (int(count) // step_size))


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
    name = "warmup_cosine_schedule"
    peak_value = _real(peak_value, "peak_value", name)
    init_value = _real(init_value, "init_value", name)
    end_value = _real(end_value, "end_value", name)
    warmup_steps = _count(warmup_steps, "warmup_steps", name, 0)
    total_steps = _count(total_steps, "total_steps", name, 1)
    if total_steps <= warmup_steps:
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
