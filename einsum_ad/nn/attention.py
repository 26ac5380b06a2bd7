"""Multi-head self-attention and a pre-norm transformer block, as einsum expressions.

Shapes: ``b`` batch, ``t``/``q``/``k`` sequence positions, ``c`` model width, ``h`` heads,
``d`` width per head.
"""

from __future__ import annotations

import math

import numpy as np

import einsum_ad as ea

from . import init as initializers
from .layers import MLP, LayerNorm, Module, _as_input, _check_params, _flag, _like, _positive

__all__ = ["MultiHeadAttention", "TransformerBlock", "causal_mask"]


def causal_mask(length: int) -> np.ndarray:
    """A ``(length, length)`` boolean mask: query ``q`` may attend to keys ``k <= q``.

    Examples:
        >>> causal_mask(3).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    return np.tril(np.ones((length, length), dtype=bool))


def _check_mask(mask, scores_shape):
    """A boolean attention mask (True = may attend), broadcastable to ``scores_shape``
    ``(batch, heads, queries, keys)``, as a plain boolean array of its library (a list: NumPy).
    Float masks are refused: an additive 0/-inf mask read as booleans would invert its
    meaning."""
    mask = ea.core.unwrap(mask)
    b = ea.backend.of(mask)
    if b is None:
        b, mask = ea.backend.default(), np.asarray(mask)
    if ea.backend.kind(mask.dtype) not in "biu":
        raise TypeError(f"MultiHeadAttention: mask must be boolean (True = may attend), got "
                        f"dtype {mask.dtype}; for an additive mask of 0 / -inf pass "
                        "mask == 0")
    try:
        ok = np.broadcast_shapes(tuple(mask.shape), scores_shape) == scores_shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"MultiHeadAttention: mask has shape {tuple(mask.shape)}, which does "
                         f"not broadcast to the attention scores' shape {scores_shape} "
                         "(batch, heads, queries, keys)")
    return b.astype(mask, b.bool)


class MultiHeadAttention(Module):
    """Multi-head self-attention over inputs of shape ``(batch, length, features)``.

    The whole layer, read as einsum expressions::

        q = einsum("btc,hdc->bhtd", x, Wq)           # and k, v likewise
        s = einsum("bhqd,bhkd->bhqk", q, k) / sqrt(d)
        a = softmax(where(mask, s, lowest), axis=-1)  # stable: max subtracted
        o = einsum("bhqk,bhkd->bhqd", a, v)
        y = einsum("bhtd,chd->btc", o, Wo) + bo

    Args:
        features: the model width ``c``.
        num_heads: number of heads ``h``; ``features`` must be divisible by it.
        causal: let each position attend only to itself and earlier positions.

    Examples:
        >>> import numpy as np
        >>> mha = MultiHeadAttention(8, num_heads=2, causal=True)
        >>> mha(mha.init(0), np.ones((3, 5, 8))).shape
        (3, 5, 8)
    """

    def __init__(self, features: int, num_heads: int, causal: bool = False):
        self.features = _positive(features, "features", "MultiHeadAttention")
        self.num_heads = _positive(num_heads, "num_heads", "MultiHeadAttention")
        if self.features % self.num_heads:
            raise ValueError(f"MultiHeadAttention: features ({self.features}) must be "
                             f"divisible by num_heads ({self.num_heads})")
        self.causal = _flag(causal, "causal", "MultiHeadAttention")

    @property
    def head_dim(self) -> int:
        """The width ``d`` of each head: ``features // num_heads``."""
        return self.features // self.num_heads

    def init(self, rng):
        rng = initializers.as_generator(rng)
        c, h, d = self.features, self.num_heads, self.head_dim
        params = {name: initializers.glorot_uniform(rng, (h, d, c), c, c)
                  for name in ("Wq", "Wk", "Wv")}
        params["Wo"] = initializers.glorot_uniform(rng, (c, h, d), c, c)
        params["bo"] = np.zeros(c)
        return params

    def apply(self, params, x, mask=None):
        """Attend; ``mask`` (boolean, broadcastable to ``(b, h, q, k)``, True = may attend)
        is combined with the causal mask when the layer is causal. A query with no key to
        attend to gets uniform weights (finite values and derivatives, never NaN)."""
        _check_params(params, ("Wq", "Wk", "Wv", "Wo", "bo"), "MultiHeadAttention")
        x = _as_input(x, "input", "MultiHeadAttention")
        if x.ndim != 3 or x.shape[-1] != self.features:
            raise ValueError(f"MultiHeadAttention: input has shape {tuple(x.shape)}; expected "
                             f"(batch, length, {self.features})")
        q = ea.einsum("btc,hdc->bhtd", x, params["Wq"])
        k = ea.einsum("btc,hdc->bhtd", x, params["Wk"])
        v = ea.einsum("btc,hdc->bhtd", x, params["Wv"])
        scores = ea.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(self.head_dim)
        # the masks join the scores' library and device (a NumPy mask is copied there)
        allowed = _like(causal_mask(x.shape[1]), scores, bool) if self.causal else None
        if mask is not None:
            mask = _check_mask(mask, tuple(scores.shape))
            if ea.backend.of(mask) is not ea.backend.of(ea.core.unwrap(scores)):
                mask = _like(np.asarray(ea.backend.of(mask).to_numpy(mask)), scores, bool)
            allowed = mask if allowed is None else allowed & mask
        if allowed is not None:
            # masked scores are *replaced* by the most negative finite value of their dtype
            # (not -inf, not added): a fully masked row stays finite (uniform weights), the
            # masked entries get a zero derivative, and float32 stays float32
            lowest = float(ea.backend.of(ea.core.unwrap(scores)).finfo(scores.dtype).min)
            scores = ea.where(allowed, scores, lowest)
        weights = ea.softmax(scores, axis=-1)
        out = ea.einsum("bhqk,bhkd->bhqd", weights, v)
        return ea.einsum("bhtd,chd->btc", out, params["Wo"]) + params["bo"]


class TransformerBlock(Module):
    """A pre-norm transformer block: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``.

    Args:
        features: the model width.
        num_heads: attention heads.
        hidden: the MLP's hidden width (``4 * features`` by default).
        causal: causal self-attention.
        activation: the MLP's activation (``"gelu"`` by default).

    Examples:
        >>> import numpy as np
        >>> block = TransformerBlock(8, num_heads=2)
        >>> block(block.init(0), np.ones((2, 5, 8))).shape
        (2, 5, 8)
    """

    def __init__(self, features: int, num_heads: int, hidden: int | None = None,
                 causal: bool = False, activation="gelu"):
        # every size checked here, under this layer's name (not passed through int(), and
        # not left to the sublayers, whose errors would name their own arguments)
        self.features = _positive(features, "features", "TransformerBlock")
        self.num_heads = _positive(num_heads, "num_heads", "TransformerBlock")
        self.hidden = (4 * self.features if hidden is None
                       else _positive(hidden, "hidden", "TransformerBlock"))
        self.causal = _flag(causal, "causal", "TransformerBlock")
        if self.features % self.num_heads:
            raise ValueError(f"TransformerBlock: features ({self.features}) must be divisible "
                             f"by num_heads ({self.num_heads})")
        self._attn = MultiHeadAttention(self.features, self.num_heads, self.causal)
        self._ln1, self._ln2 = LayerNorm(self.features), LayerNorm(self.features)
        self._mlp = MLP([self.features, self.hidden, self.features], activation=activation,
                        init="glorot_uniform")

    def init(self, rng):
        rng = initializers.as_generator(rng)
        return {"ln1": self._ln1.init(rng), "attn": self._attn.init(rng),
                "ln2": self._ln2.init(rng), "mlp": self._mlp.init(rng)}

    def apply(self, params, x, mask=None):
        _check_params(params, ("ln1", "attn", "ln2", "mlp"), "TransformerBlock")
        x = _as_input(x, "input", "TransformerBlock")
        # ea.add, not +: a plain x's own + may refuse a traced right operand (array-api-strict)
        x = ea.add(x, self._attn(params["attn"], self._ln1(params["ln1"], x), mask))
        return ea.add(x, self._mlp(params["mlp"], self._ln2(params["ln2"], x)))
