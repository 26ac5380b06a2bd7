"""Layers whose every linear map is a visible einsum expression.

A layer object holds only hyperparameters. ``layer.init(rng) -> params`` makes its
parameters (a dict of numpy arrays, a pytree); ``layer.apply(params, x)`` (also
``layer(params, x)``) is a pure function of them, so ``ea.grad`` differentiates it with
respect to ``params`` directly. Batch axes are ``...`` in the specs.

``apply`` computes with einsum_ad operations only (``ea.einsum``, ``ea.mean``, ...), so it
runs on whatever arrays the engine runs on; numpy is used on the host for parameters at
``init``, for checking hyperparameters, and for constants built from integers (one-hot
labels, causal masks). Inputs may be arrays, traced values or nested lists (taken as the
arrays they spell); anything else is a TypeError naming the layer and the argument.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

import einsum_ad as ea
from einsum_ad import backend as _backend
from einsum_ad.core import unwrap

from . import init as initializers

__all__ = ["Module", "Dense", "MLP", "Embedding", "LayerNorm", "Bilinear", "activation",
           "one_hot"]


class Module:
    """Base of the layers: ``__call__`` is ``apply``; ``repr`` shows the hyperparameters."""

    def init(self, rng):  # pragma: no cover - every layer overrides it
        raise TypeError(f"{type(self).__name__} defines no init")

    def apply(self, params, *args):  # pragma: no cover - every layer overrides it
        raise TypeError(f"{type(self).__name__} defines no apply")

    def __call__(self, params, *args, **kwargs):
        return self.apply(params, *args, **kwargs)

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


def _positive(value, arg, layer):
    """A size: a positive ``int`` (numpy integers too). ``2.5``, ``True`` and ``"8"`` are
    refused (TypeError), not rounded or converted: ``int()`` made ``MLP([4, 2.5, 3])`` a
    width-2 layer and ``True`` a width-1 one."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: {arg} must be a positive integer, got "
                        f"{type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{layer}: {arg} must be a positive integer, got {value!r}")
    return int(value)


def _flag(value, arg, layer):
    """A boolean option: ``causal="no"`` would otherwise be truthy."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{layer}: {arg} must be True or False, got {type(value).__name__} "
                        f"{value!r}")
    return bool(value)


def _real(value, arg, layer, positive=False):
    """A finite real hyperparameter (``eps``, ``noise``), non-negative or positive."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{layer}: {arg} must be a real number, got {type(value).__name__} "
                        f"{value!r}")
    value = float(value)
    if math.isinf(value):
        raise ValueError(f"{layer}: {arg} must be finite, got {value}")
    if not (value > 0 if positive else value >= 0):  # NaN fails both
        raise ValueError(f"{layer}: {arg} must be "
                         f"{'positive' if positive else 'non-negative'}, got {value}")
    return value


def _as_input(x, arg, layer):
    """An input as an array: traced values and arrays as they are, a (nested) list or a
    number as the array it spells (as ``ea.einsum`` takes them); None, a string or a list
    of strings is a TypeError naming ``arg``, not an AttributeError deep inside."""
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{layer}: {arg} must be an array (or a nested list of numbers), got "
                        f"{type(x).__name__}")
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        try:
            x = ea.asarray(x)
        except (TypeError, ValueError) as exc:  # ragged lists, traced values in a list
            raise TypeError(f"{layer}: {arg} must be an array (or a nested list of numbers), "
                            f"got a {type(x).__name__} that is not one: {exc}") from None
    dtype = x.dtype
    if isinstance(dtype, np.dtype) and dtype.kind not in "biufc":
        raise TypeError(f"{layer}: {arg} must hold numbers, got dtype {dtype} (shape "
                        f"{tuple(x.shape)})")
    return x


def _check_params(params, keys, layer):
    """``params`` must be the dict this layer's ``init`` makes (KeyError 'W' otherwise)."""
    if not isinstance(params, dict) or not set(keys) <= set(params):
        got = (f"a dict with keys {sorted(params, key=str)}" if isinstance(params, dict)
               else f"a {type(params).__name__}")
        raise TypeError(f"{layer}: params must be a dict with keys {sorted(keys)} (as "
                        f"{layer}.init makes), got {got}")


def _last_axis(x, size, arg, layer):
    if x.ndim < 1 or x.shape[-1] != size:
        raise ValueError(f"{layer}: {arg} has shape {tuple(x.shape)}; its last axis must have "
                         f"size {size}")


def activation(name):
    """An activation function from its name (``"relu"``, ``"tanh"``, ``"gelu"``, ...).

    Names are looked up in the ``einsum_ad`` namespace; ``"identity"``/``None`` gives the
    identity; a callable is returned as it is.
    """
    if callable(name):
        return name
    if name is None or name == "identity":
        return lambda x: x
    fn = getattr(ea, name, None) if isinstance(name, str) else None
    if fn is None or not callable(fn):
        raise ValueError(f"unknown activation {name!r}; use a name such as 'relu', 'tanh', "
                         "'gelu', or a function")
    return fn


_lookup_activation = activation  # MLP's argument of the same name shadows the function


def one_hot(labels, num_classes: int, dtype=np.float64) -> np.ndarray:
    """Integer ``labels`` of any shape as one-hot vectors along a new last axis (a constant).

    Examples:
        >>> one_hot(np.array([2, 0]), 3)
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    return _one_hot(labels, num_classes, dtype, "one_hot", "labels")


def _host(x) -> np.ndarray:
    """``x`` (a traced value, an array of any library, a list) as a NumPy array on the host."""
    v = unwrap(x)
    b = _backend.of(v)
    return np.asarray(v) if b is None else np.asarray(b.to_numpy(v))


def _like(a, like, dtype=None):
    """Host (NumPy) data ``a`` as an array of ``like``'s library and device, in ``like``'s
    dtype (or ``dtype``): how the layers' constants (one-hot labels, masks, targets) join
    parameters and inputs of any backend."""
    v = unwrap(like)
    b = _backend.of(v)
    out = b.from_numpy(np.asarray(a), like=v)
    return b.astype(out, v.dtype if dtype is None else b.dtype(dtype))


def _one_hot(labels, num_classes, dtype, fname, what):
    """``one_hot`` with errors naming the caller ``fname`` and its argument ``what``."""
    if labels is None or isinstance(labels, (str, bytes)):
        raise TypeError(f"{fname}: {what} must be an array of integers, got "
                        f"{type(labels).__name__}")
    try:
        labels = _host(labels)  # a constant: the labels are not differentiated
    except ValueError as exc:  # a ragged list
        raise TypeError(f"{fname}: {what} must be an array of integers: {exc}") from None
    if labels.dtype.kind not in "iu":  # bool would index as a mask, not as 0/1
        raise TypeError(f"{fname}: {what} must be integers, got dtype {labels.dtype} "
                        f"(shape {labels.shape})")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{fname}: {what} must lie in [0, {num_classes}), got values in "
                         f"[{labels.min()}, {labels.max()}]")
    return np.eye(num_classes, dtype=dtype)[labels]


class Dense(Module):
    """``y = einsum("...i,oi->...o", x, W) + b``.

    Args:
        in_features, out_features: sizes of the input's and the output's last axis.
        bias: add a bias ``b`` of shape ``(out_features,)``.
        init: an initialiser name from :mod:`einsum_ad.nn.init` or a function
            ``(rng, shape, fan_in, fan_out)``; ``"glorot_uniform"`` by default.

    Examples:
        >>> import numpy as np
        >>> layer = Dense(3, 2)
        >>> params = layer.init(np.random.default_rng(0))
        >>> sorted((k, v.shape) for k, v in params.items())
        [('W', (2, 3)), ('b', (2,))]
        >>> layer(params, np.ones((5, 3))).shape
        (5, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init="glorot_uniform"):
        self.in_features = _positive(in_features, "in_features", "Dense")
        self.out_features = _positive(out_features, "out_features", "Dense")
        self.bias = _flag(bias, "bias", "Dense")
        self.init_fn = initializers.get(init)

    def init(self, rng):
        rng = initializers.as_generator(rng)
        params = {"W": self.init_fn(rng, (self.out_features, self.in_features),
                                    self.in_features, self.out_features)}
        if self.bias:
            params["b"] = np.zeros(self.out_features)
        return params

    def apply(self, params, x):
        _check_params(params, ("W", "b") if self.bias else ("W",), "Dense")
        x = _as_input(x, "input", "Dense")
        _last_axis(x, self.in_features, "input", "Dense")
        y = ea.einsum("...i,oi->...o", x, params["W"])
        return y + params["b"] if self.bias else y


class MLP(Module):
    """Dense layers with an activation between them (none after the last).

    Args:
        sizes: layer widths, input first: ``[64, 128, 10]`` is two Dense layers.
        activation: name or function applied after every layer but the last.
        init: initialiser of the weights (``"he_normal"`` suits ReLU-like activations).

    Params are a list with one Dense dict per layer.

    Examples:
        >>> import numpy as np
        >>> mlp = MLP([4, 8, 3])
        >>> mlp(mlp.init(0), np.ones((2, 4))).shape
        (2, 3)
    """

    def __init__(self, sizes, activation="relu", init="he_normal"):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise TypeError(f"MLP: sizes must be a sequence of positive integers such as "
                            f"[64, 128, 10], got {type(sizes).__name__} {sizes!r}")
        sizes = [_positive(s, f"sizes[{k}]", "MLP") for k, s in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, "
                             f"got {sizes}")
        self.sizes = sizes
        self.activation = activation
        self._act = _lookup_activation(activation)
        self._layers = [Dense(a, b, init=init) for a, b in zip(sizes[:-1], sizes[1:])]

    def init(self, rng):
        rng = initializers.as_generator(rng)
        return [layer.init(rng) for layer in self._layers]

    def apply(self, params, x):
        if not isinstance(params, (list, tuple)):
            raise TypeError(f"MLP: params must be a list of {len(self._layers)} Dense dicts "
                            f"(as MLP.init makes), got a {type(params).__name__}")
        if len(params) != len(self._layers):
            raise ValueError(f"MLP: params hold {len(params)} layers, the MLP has "
                             f"{len(self._layers)}")
        for k, (layer, p) in enumerate(zip(self._layers, params)):
            x = layer(p, x)
            if k < len(self._layers) - 1:
                x = self._act(x)
        return x


class Embedding(Module):
    """Token ids to vectors: ``einsum("...v,vd->...d", one_hot(ids), E)``.

    The one-hot matrix is a constant, so the gradient with respect to ``E`` is the einsum
    adjoint ``"...v,...d->vd"``: each used row collects its tokens' cotangents.

    Examples:
        >>> import numpy as np
        >>> emb = Embedding(10, 4)
        >>> emb(emb.init(0), np.array([[1, 2, 3]])).shape
        (1, 3, 4)
    """

    def __init__(self, num_embeddings: int, features: int):
        self.num_embeddings = _positive(num_embeddings, "num_embeddings", "Embedding")
        self.features = _positive(features, "features", "Embedding")

    def init(self, rng):
        rng = initializers.as_generator(rng)
        return {"E": rng.normal(0.0, 1.0 / math.sqrt(self.features),
                                (self.num_embeddings, self.features))}

    def apply(self, params, ids):
        _check_params(params, ("E",), "Embedding")
        hot = _one_hot(ids, self.num_embeddings, np.float64, "Embedding", "token ids")
        return ea.einsum("...v,vd->...d", _like(hot, params["E"]), params["E"])


class LayerNorm(Module):
    """Normalise the last axis to zero mean and unit variance, then scale and shift.

    ``y = (x - mean) / sqrt(var + eps) * g + b`` with the statistics over the last axis.
    """

    def __init__(self, features: int, eps: float = 1e-5):
        self.features = _positive(features, "features", "LayerNorm")
        self.eps = _real(eps, "eps", "LayerNorm", positive=True)

    def init(self, rng):
        return {"g": np.ones(self.features), "b": np.zeros(self.features)}

    def apply(self, params, x):
        _check_params(params, ("g", "b"), "LayerNorm")
        x = _as_input(x, "input", "LayerNorm")
        _last_axis(x, self.features, "input", "LayerNorm")
        centred = x - ea.mean(x, axis=-1, keepdims=True)
        var = ea.mean(centred * centred, axis=-1, keepdims=True)
        # ea.multiply/add, not * and +: on a plain x the left operand is a plain array,
        # whose own operators may refuse a traced parameter (array-api-strict's do)
        return ea.add(ea.multiply(centred / ea.sqrt(var + self.eps), params["g"]), params["b"])


class Bilinear(Module):
    """``y = einsum("...i,oij,...j->...o", x1, W, x2) + b``.

    Examples:
        >>> import numpy as np
        >>> bl = Bilinear(3, 4, 2)
        >>> bl(bl.init(0), np.ones((5, 3)), np.ones((5, 4))).shape
        (5, 2)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True):
        self.in1_features = _positive(in1_features, "in1_features", "Bilinear")
        self.in2_features = _positive(in2_features, "in2_features", "Bilinear")
        self.out_features = _positive(out_features, "out_features", "Bilinear")
        self.bias = _flag(bias, "bias", "Bilinear")

    def init(self, rng):
        rng = initializers.as_generator(rng)
        bound = 1.0 / math.sqrt(self.in1_features)
        shape = (self.out_features, self.in1_features, self.in2_features)
        params = {"W": rng.uniform(-bound, bound, shape) / math.sqrt(self.in2_features)}
        if self.bias:
            params["b"] = np.zeros(self.out_features)
        return params

    def apply(self, params, x1, x2):
        _check_params(params, ("W", "b") if self.bias else ("W",), "Bilinear")
        x1 = _as_input(x1, "input 1", "Bilinear")
        x2 = _as_input(x2, "input 2", "Bilinear")
        _last_axis(x1, self.in1_features, "input 1", "Bilinear")
        _last_axis(x2, self.in2_features, "input 2", "Bilinear")
        y = ea.einsum("...i,oij,...j->...o", x1, params["W"], x2)
        return y + params["b"] if self.bias else y
