"""A matrix-product-state (tensor-train) layer: a classifier over local feature vectors.

Each of ``n`` sites has a core ``A[n, l, p, r]`` (bond ``l``, physical ``p``, bond ``r``).
An input gives one feature vector ``phi[b, n, p]`` per site; the model is the chain

    logits[b, o] = left[l0] M_1[b] M_2[b] ... M_n[b] right[r_n, o],
    M_n[b] = einsum("bp,lpr->blr", phi[b, n], A[n])

The matrices are multiplied pairwise in a balanced tree (``"bnlm,bnmr->bnlr"`` on
neighbouring pairs, all pairs of a level in one einsum), so a level costs one einsum node
and the depth is ``log2(n)``.
"""

from __future__ import annotations

import math

import numpy as np

import einsum_ad as ea

from . import init as initializers
from .layers import Module, _as_input, _check_params, _positive, _real

__all__ = ["MPS"]


class MPS(Module):
    """A matrix-product-state layer mapping ``(batch, sites, phys)`` features to outputs.

    Args:
        num_sites: number of sites ``n`` (e.g. pixels).
        phys_dim: size ``p`` of each site's feature vector.
        bond_dim: the bond dimension ``D`` (the model's capacity).
        out_features: number of outputs (classes).
        noise: standard deviation of the random part of the cores at initialisation;
            by default ``1 / sqrt(num_sites * bond_dim)``.

    The cores start as the identity on physical component 0 plus ``noise`` on every
    component: with a local feature map whose first component is the constant 1 (such as
    ``phi(x) = (1, x)``) every matrix starts near the identity. Each random part grows a
    vector's squared norm by a factor of about ``1 + bond_dim * noise**2 * |phi|**2``, so
    the default noise keeps the product of all ``num_sites`` matrices of order one however
    long the chain or wide the bond (a fixed noise of 0.05 gave logits of 1e16 for 784
    sites of bond 32).

    Examples:
        >>> import numpy as np
        >>> mps = MPS(num_sites=5, phys_dim=2, bond_dim=3, out_features=4)
        >>> phi = np.stack([np.ones((2, 5)), np.linspace(0, 1, 10).reshape(2, 5)], axis=-1)
        >>> mps(mps.init(0), phi).shape
        (2, 4)
    """

    def __init__(self, num_sites: int, phys_dim: int, bond_dim: int, out_features: int,
                 noise: float | None = None):
        self.num_sites = _positive(num_sites, "num_sites", "MPS")
        self.phys_dim = _positive(phys_dim, "phys_dim", "MPS")
        self.bond_dim = _positive(bond_dim, "bond_dim", "MPS")
        self.out_features = _positive(out_features, "out_features", "MPS")
        if noise is None:
            noise = 1.0 / math.sqrt(self.num_sites * self.bond_dim)
        self.noise = _real(noise, "noise", "MPS")

    def init(self, rng):
        rng = initializers.as_generator(rng)
        n, p, d = self.num_sites, self.phys_dim, self.bond_dim
        cores = self.noise * rng.standard_normal((n, d, p, d))
        cores[:, :, 0, :] += np.eye(d)
        return {"cores": cores,
                "left": rng.standard_normal(d) / math.sqrt(d),
                "right": initializers.glorot_uniform(rng, (d, self.out_features), d,
                                                     self.out_features)}

    def apply(self, params, phi):
        n, p, d = self.num_sites, self.phys_dim, self.bond_dim
        _check_params(params, ("cores", "left", "right"), "MPS")
        phi = _as_input(phi, "input", "MPS")
        if phi.ndim != 3 or tuple(phi.shape[1:]) != (n, p):
            raise ValueError(f"MPS: input has shape {tuple(phi.shape)}; expected "
                             f"(batch, {n}, {p}) (batch, sites, phys_dim)")
        b = phi.shape[0]
        mats = ea.einsum("bnp,nlpr->bnlr", phi, params["cores"])
        tail = None  # the product of the matrices set aside at odd levels (rightmost last)
        while mats.shape[1] > 1:
            m = mats.shape[1]
            if m % 2:
                last = mats[:, m - 1, ...]
                tail = last if tail is None else ea.einsum("blm,bmr->blr", last, tail)
                mats = mats[:, :m - 1, ...]
            pairs = ea.reshape(mats, (b, m // 2, 2, d, d))
            mats = ea.einsum("bnlm,bnmr->bnlr", pairs[:, :, 0, ...], pairs[:, :, 1, ...])
        chain = mats[:, 0, ...]  # (indices spell out ...: the standard's arrays need it)
        if tail is not None:
            chain = ea.einsum("blm,bmr->blr", chain, tail)
        return ea.einsum("l,blr,ro->bo", params["left"], chain, params["right"])
