"""The cases of ``peers.py``: einsum expressions with operands, and hand-written NumPy/BLAS
forward and forward+backward code where a hand-written version is the natural baseline."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce

import numpy as np
from opt_einsum import get_symbol

import einsum_ad as ea

DTYPE = np.float32


@dataclass
class Case:
    name: str
    spec: str | None  # None: the MLP step, which every system implements itself
    arrays: list
    group: str  # simple, attention, bilinear, chain, ring, network, mlp
    hand_fwd: object = None
    hand_fb: object = None
    ct: np.ndarray | None = None
    extra: dict = field(default_factory=dict)

    @property
    def n_operands(self) -> int:
        return len(self.arrays) if self.spec else 0

    @property
    def label(self) -> str:
        if self.spec is None:
            return self.extra["label"]
        spec = self.spec if len(self.spec) <= 40 else self.spec[:37] + "..."
        shapes = "×".join(str(d) for d in self.arrays[0].shape)
        return f"{self.name}: {spec} ({shapes}{', ...' if len(self.arrays) > 1 else ''})"


def _rand(rng, *shape):
    return rng.standard_normal(shape).astype(DTYPE)


def _chain_fb(mats, g):
    """Reverse mode of a matrix chain by hand: prefix and suffix products."""
    pre = [mats[0]]
    for m in mats[1:]:
        pre.append(pre[-1] @ m)
    suf = [mats[-1]]
    for m in mats[-2::-1]:
        suf.append(m @ suf[-1])
    suf.reverse()
    n = len(mats)
    grads = []
    for k in range(n):
        left = g if k == 0 else pre[k - 1].T @ g
        grads.append(left if k == n - 1 else left @ suf[k + 1].T)
    return pre[-1], grads


def _ring_spec(n):
    s = get_symbol  # bonds a, b, ...; physical labels after them (letters up to n = 26)
    subs = [s(i) + s(n + i) + s((i + 1) % n) for i in range(n)]
    return ",".join(subs) + "->" + "".join(s(n + i) for i in range(n))


def _grid_spec(rows, cols):
    """A rows x cols tensor network, bonds between neighbours, contracted to a scalar."""
    labels = iter(get_symbol(i) for i in range(200))
    h = {(r, c): next(labels) for r in range(rows) for c in range(cols - 1)}
    v = {(r, c): next(labels) for r in range(rows - 1) for c in range(cols)}
    subs = []
    for r in range(rows):
        for c in range(cols):
            sub = ""
            sub += h.get((r, c - 1), "") + h.get((r, c), "")
            sub += v.get((r - 1, c), "") + v.get((r, c), "")
            subs.append(sub)
    return ",".join(subs) + "->"


def make_cases(quick: bool, rng) -> list[Case]:
    q = quick
    cases = []

    def add(name, spec, arrays, group="simple", fwd=None, fb=None, **extra):
        out = np.asarray(ea.einsum(spec, *arrays))  # numpy's greedy may pick one huge loop
        ct = _rand(rng, *out.shape) if out.ndim else np.ones((), DTYPE)
        cases.append(Case(name, spec, arrays, group, fwd, fb, ct, extra))

    a, b = _rand(rng, 4, 4), _rand(rng, 4, 4)
    add("matmul4x4", "ij,jk->ik", [a, b], fwd=lambda a, b: a @ b,
        fb=lambda g, a, b: (a @ b, g @ b.T, a.T @ g))
    n = 512 if q else 2048
    add("matvec", "ij,j->i", [_rand(rng, n, n), _rand(rng, n)], fwd=lambda w, x: w @ x,
        fb=lambda g, w, x: (w @ x, np.outer(g, x), w.T @ g))
    n = 256 if q else 1024
    add("matmul", "ij,jk->ik", [_rand(rng, n, n), _rand(rng, n, n)], fwd=lambda a, b: a @ b,
        fb=lambda g, a, b: (a @ b, g @ b.T, a.T @ g))
    n = 512 if q else 2048
    add("trace", "ii->", [_rand(rng, n, n)], fwd=np.trace,
        fb=lambda g, a: (np.trace(a), np.eye(len(a), dtype=a.dtype) * g))

    def diag_fb(g, a):
        ga = np.zeros_like(a)
        np.fill_diagonal(ga, g)
        return np.diagonal(a), ga

    add("diagonal", "ii->i", [_rand(rng, n, n)], fwd=np.diagonal, fb=diag_fb)
    add("outer", "i,j->ij", [_rand(rng, n), _rand(rng, n)], fwd=np.outer,
        fb=lambda g, x, y: (np.outer(x, y), g @ y, x @ g))
    add("hadamard", "ij,ij->ij", [_rand(rng, n, n), _rand(rng, n, n)],
        fwd=np.multiply, fb=lambda g, x, y: (x * y, g * y, g * x))
    shape = (2, 4, 128, 64) if q else (8, 8, 256, 64)
    add("attention", "bhqd,bhkd->bhqk", [_rand(rng, *shape), _rand(rng, *shape)], "attention",
        fwd=lambda x, y: x @ y.swapaxes(-1, -2),
        fb=lambda g, x, y: (x @ y.swapaxes(-1, -2), g @ y, g.swapaxes(-1, -2) @ x))
    bsz, d, o = (64, 64, 32) if q else (128, 256, 64)

    def bil_fwd(x, w, y):
        u = (y @ w.reshape(o * d, d).T).reshape(len(x), o, d)
        return np.matmul(u, x[:, :, None])[..., 0]

    add("bilinear", "bi,oij,bj->bo", [_rand(rng, bsz, d), _rand(rng, o, d, d),
                                      _rand(rng, bsz, d)], "bilinear", fwd=bil_fwd)
    n = 64 if q else 256
    mats = [_rand(rng, n, n) / DTYPE(np.sqrt(n)) for _ in range(6)]  # not np.sqrt: float64
    add("chain6", "ab,bc,cd,de,ef,fg->ag", mats, "chain",
        fwd=lambda *ms: reduce(np.matmul, ms), fb=lambda g, *ms: _chain_fb(ms, g))
    bond, phys = (8, 2) if q else (32, 2)
    add("mps_ring8", _ring_spec(8), [_rand(rng, bond, phys, bond) / DTYPE(np.sqrt(bond))
                                     for _ in range(8)], "ring")
    bond = 6 if q else 16
    spec = _grid_spec(3, 3)
    arrays = [_rand(rng, *([bond] * len(sub))) / bond for sub in spec[:-2].split(",")]
    add("grid3x3", spec, arrays, "network")
    cases.append(_mlp_case(rng, q))
    return cases


# ---------------------------------------------------------------------- the MLP step


def _mlp_case(rng, quick) -> Case:
    sizes = (784, 512, 512, 10)
    batch = 128
    params = {}
    for i, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"W{i}"] = _rand(rng, m, n) * np.float32(np.sqrt(2.0 / m))
        params[f"b{i}"] = np.zeros(n, DTYPE)
    x = _rand(rng, batch, sizes[0])
    y = np.eye(sizes[-1], dtype=DTYPE)[rng.integers(0, sizes[-1], batch)]
    return Case("mlp", None, [params, x, y], "mlp", mlp_hand_fwd, mlp_hand_fb,
                extra={"label": "mlp: 784-512-512-10, batch 128, softmax cross-entropy"})


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def mlp_hand_fwd(params, x, y):
    h = x
    for i in range(3):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < 2:
            h = np.maximum(h, 0)
    return -(y * _log_softmax(h)).sum() / len(x)


def mlp_hand_fb(params, x, y):
    hs, h = [x], x
    for i in range(3):
        h = h @ params[f"W{i}"] + params[f"b{i}"]
        if i < 2:
            h = np.maximum(h, 0)
        hs.append(h)
    logp = _log_softmax(h)
    loss = -(y * logp).sum() / len(x)
    g = (np.exp(logp) - y) / len(x)
    grads = {}
    for i in (2, 1, 0):
        grads[f"W{i}"] = hs[i].T @ g
        grads[f"b{i}"] = g.sum(axis=0)
        if i:
            g = (g @ params[f"W{i}"].T) * (hs[i] > 0)
    return loss, grads
