"""Neural-network layers written as einsum expressions, initialisers, losses and metrics.

Layers hold hyperparameters only: ``params = layer.init(rng)`` and ``layer(params, x)``.
"""

from . import init
from .attention import MultiHeadAttention, TransformerBlock, causal_mask
from .layers import MLP, Bilinear, Dense, Embedding, LayerNorm, Module, activation, one_hot
from .losses import accuracy, binary_cross_entropy_with_logits, mse, softmax_cross_entropy
from .mps import MPS

__all__ = ["init", "Module", "Dense", "MLP", "Embedding", "LayerNorm", "Bilinear",
           "MultiHeadAttention", "TransformerBlock", "MPS", "causal_mask", "activation",
           "one_hot", "mse", "softmax_cross_entropy", "binary_cross_entropy_with_logits",
           "accuracy"]
