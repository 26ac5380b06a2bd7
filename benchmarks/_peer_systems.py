"""The systems ``peers.py`` compares. Each gives, per case and mode ("fwd" or "fb"), a
zero-argument callable to time, or None with the reason it cannot run that case."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import opt_einsum

import einsum_ad as ea

try:
    from einsum_ad.spec import adjoint, normalize, parse
except ImportError:  # a checkout before the package's layers (side_by_side.py times one)
    from einsum_ad.subscripts import adjoint, normalize, parse

TOO_SLOW = 1e9  # FLOPs: a single numpy einsum loop beyond this (~1 s) is not timed


def _adjoint_specs(spec, arrays):
    """``"out,others->s_k"`` per operand, or None if an operand needs a spread."""
    terms, output, _ = parse((spec,) + tuple(arrays))
    canon = normalize(terms, output, [a.shape for a in arrays])
    out = []
    for k in range(len(arrays)):
        adj = adjoint(canon, k)
        if adj.spread is not None:
            return None, canon
        out.append((str(adj.contraction), adj.others))
    return out, canon


class System:
    name = ""

    def make(self, case, mode):
        if case.spec is None:
            return self.mlp(case, mode)
        return self.einsum(case, mode)

    def mlp(self, case, mode):
        return None, None

    def einsum(self, case, mode):
        return None, None


class EinsumAD(System):
    name = "einsum_ad"
    wrap = None  # a transform applied to each measured function (ea.jit), or None

    def einsum(self, case, mode):
        spec, xs, ct = case.spec, case.arrays, case.ct
        f = lambda *a: ea.einsum(spec, *a)
        if mode == "fwd":
            if self.wrap is None:
                return (lambda: ea.einsum(spec, *xs)), None
            g = self.wrap(f)
            return (lambda: g(*xs)), None

        def fb(*a):
            out, vjp = ea.vjp(f, *a)
            return out, vjp(ct)
        g = fb if self.wrap is None else self.wrap(fb)
        return (lambda: g(*xs)), None

    def mlp(self, case, mode):
        params, x, y = case.arrays
        g = mlp_loss if mode == "fwd" else ea.value_and_grad(mlp_loss)
        g = g if self.wrap is None else self.wrap(g)
        return (lambda: g(params, x, y)), None


def mlp_loss(p, x, y):
    """The MLP case's loss in einsum_ad (benchmarks/jit.py times it too)."""
    h = x
    for i in range(3):
        h = ea.einsum("bi,io->bo", h, p[f"W{i}"]) + p[f"b{i}"]
        if i < 2:
            h = ea.relu(h)
    return -ea.sum(y * ea.log_softmax(h, axis=1)) / x.shape[0]


class EinsumADTorch(EinsumAD):
    """einsum_ad on torch tensors: einsum_ad traces and differentiates, torch computes."""

    name = "einsum_ad (torch)"

    def __init__(self, threads):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch

    def make(self, case, mode):
        to = self.torch.from_numpy
        arrays = ([ea.tree_map(to, case.arrays[0])] + [to(a) for a in case.arrays[1:]]
                  if case.spec is None else [to(a) for a in case.arrays])
        ct = None if case.ct is None else to(case.ct)
        return super().make(dataclasses.replace(case, arrays=arrays, ct=ct), mode)


class EinsumADTorchJit(EinsumADTorch):
    """einsum_ad on torch tensors under ``ea.jit``: each measured function compiled once
    (for ``pair.py``; ``peers.py`` times eager einsum_ad only)."""

    name = "einsum_ad jit (torch)"

    def __init__(self, threads):
        super().__init__(threads)
        self.wrap = ea.jit  # (looked up here: side_by_side.py imports this module with
        #                     checkouts older than ea.jit)


class Hand(System):
    name = "numpy (hand)"

    def make(self, case, mode):
        if case.spec is None:
            params, x, y = case.arrays
            fn = case.hand_fwd if mode == "fwd" else case.hand_fb
            return (lambda: fn(params, x, y)), None
        if mode == "fwd":
            fn = case.hand_fwd
            return (None, None) if fn is None else ((lambda: fn(*case.arrays)), None)
        fn = case.hand_fb
        return (None, None) if fn is None else ((lambda: fn(case.ct, *case.arrays)), None)


def _numpy_cost(spec, arrays, optimize):
    """FLOPs numpy's einsum spends in its own C loops (BLAS-backed pairwise steps of an
    optimized path are not counted: they are fast however large)."""
    if optimize is False:
        return opt_einsum.contract_path(spec, *arrays, optimize=False)[1].naive_cost
    path, text = np.einsum_path(spec, *arrays, optimize="greedy")
    if all(len(step) <= 2 for step in path[1:]) and len(path) > 1:
        return 0
    return float(re.search(r"Optimized FLOP count:\s*([0-9.eE+]+)", text).group(1))


class NumpyEinsum(System):
    def __init__(self, optimize):
        self.optimize = optimize
        self.name = f"np.einsum(optimize={optimize})"

    def _contract(self, spec, arrays):
        cost = _numpy_cost(spec, arrays, self.optimize)
        if cost > TOO_SLOW:
            return None, f"not timed: its path costs {cost:.1e} FLOPs"
        opt = self.optimize
        return (lambda *xs: np.einsum(spec, *xs, optimize=opt)), None

    def einsum(self, case, mode):
        fwd, why = self._contract(case.spec, case.arrays)
        if fwd is None:
            return None, why
        xs = case.arrays
        if mode == "fwd":
            return (lambda: fwd(*xs)), None
        return _per_operand(case, self._contract)


def _per_operand(case, contract):
    """Forward + one contraction per operand with its adjoint spec (no shared work)."""
    specs, _ = _adjoint_specs(case.spec, case.arrays)
    if specs is None:
        return None, None
    fwd, _ = contract(case.spec, case.arrays)
    xs, ct = case.arrays, case.ct
    adjs = []
    for spec, others in specs:
        ops = [ct] + [xs[m] for m in others]
        fn, why = contract(spec, ops)
        if fn is None:
            return None, why
        adjs.append((fn, ops))

    def run():
        return fwd(*xs), [fn(*ops) for fn, ops in adjs]
    return run, None


class OptEinsum(System):
    name = "opt_einsum"

    def _contract(self, spec, arrays):
        return (lambda *xs: opt_einsum.contract(spec, *xs)), None

    def einsum(self, case, mode):
        xs = case.arrays
        if mode == "fwd":
            return (lambda: opt_einsum.contract(case.spec, *xs)), None
        return _per_operand(case, self._contract)


class Torch(System):
    name = "torch"

    def __init__(self, threads):
        import torch

        torch.set_num_threads(threads)
        self.torch = torch

    def einsum(self, case, mode):
        torch = self.torch
        spec = case.spec
        if mode == "fwd":
            ts = [torch.from_numpy(x) for x in case.arrays]

            def fwd():
                with torch.no_grad():
                    return torch.einsum(spec, *ts)
            return fwd, None
        ts = [torch.from_numpy(x.copy()).requires_grad_() for x in case.arrays]
        ct = torch.from_numpy(case.ct)

        def run():
            out = torch.einsum(spec, *ts)
            return out, torch.autograd.grad(out, ts, ct)
        return run, None

    def mlp(self, case, mode):
        torch = self.torch
        params, x, y = case.arrays
        p = {k: torch.from_numpy(v.copy()).requires_grad_() for k, v in params.items()}
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def loss():
            h = tx
            for i in range(3):
                h = h @ p[f"W{i}"] + p[f"b{i}"]
                if i < 2:
                    h = torch.relu(h)
            return -(ty * torch.log_softmax(h, dim=1)).sum() / len(tx)
        if mode == "fwd":
            def fwd():
                with torch.no_grad():
                    return loss()
            return fwd, None
        keys = sorted(p)

        def run():
            val = loss()
            return val, torch.autograd.grad(val, [p[k] for k in keys])
        return run, None


class Jax(System):
    def __init__(self, jit):
        import jax

        jax.config.update("jax_platforms", "cpu")
        self.jax = jax
        self.jit = jit
        self.name = "jax.jit" if jit else "jax (eager)"

    def _wrap(self, f):
        jax = self.jax
        g = jax.jit(f) if self.jit else f
        return lambda *a: jax.block_until_ready(g(*a))

    def einsum(self, case, mode):
        jax, jnp = self.jax, self.jax.numpy
        spec = case.spec
        xs = [jnp.asarray(x) for x in case.arrays]
        f = lambda *a: jnp.einsum(spec, *a)
        if mode == "fwd":
            run = self._wrap(f)
            return (lambda: run(*xs)), None
        ct = jnp.asarray(case.ct)

        def fb(xs, ct):
            out, vjp = jax.vjp(f, *xs)
            return out, vjp(ct)
        run = self._wrap(fb)
        return (lambda: run(xs, ct)), None

    def mlp(self, case, mode):
        jax, jnp = self.jax, self.jax.numpy
        params, x, y = case.arrays
        p = {k: jnp.asarray(v) for k, v in params.items()}
        jx, jy = jnp.asarray(x), jnp.asarray(y)

        def loss(p, x, y):
            h = x
            for i in range(3):
                h = h @ p[f"W{i}"] + p[f"b{i}"]
                if i < 2:
                    h = jax.nn.relu(h)
            return -(y * jax.nn.log_softmax(h, axis=1)).sum() / x.shape[0]
        run = self._wrap(loss if mode == "fwd" else jax.value_and_grad(loss))
        return (lambda: run(p, jx, jy)), None


class Autograd(System):
    name = "autograd"

    def __init__(self):
        import autograd
        import autograd.numpy as anp

        self.autograd, self.anp = autograd, anp

    def einsum(self, case, mode):
        anp = self.anp
        spec, xs, ct = case.spec, list(case.arrays), case.ct
        if mode == "fwd":
            cost = _numpy_cost(spec, xs, True)  # numpy's own path choice, memory-capped
            if cost > TOO_SLOW:
                return None, f"not timed: numpy's path for it costs {cost:.1e} FLOPs"
            return (lambda: anp.einsum(spec, *xs, optimize=True)), None
        # autograd's einsum adjoints call numpy's einsum without optimize: one n-ary loop
        specs, canon = _adjoint_specs(spec, xs)
        for k in range(len(xs)):
            adj = adjoint(canon, k).contraction
            shapes = [ct.shape] + [xs[m].shape for m in adjoint(canon, k).others]
            cost = opt_einsum.contract_path(str(adj), *shapes, shapes=True,
                                            optimize=False)[1].naive_cost
            if cost > TOO_SLOW:
                return None, (f"not timed: its adjoint of operand {k} is one unoptimised "
                              f"numpy einsum loop of {cost:.1e} FLOPs")
        make_vjp = self.autograd.make_vjp(lambda xs: anp.einsum(spec, *xs))

        def run():
            vjp, out = make_vjp(xs)
            return out, vjp(ct)
        return run, None

    def mlp(self, case, mode):
        anp = self.anp
        params, x, y = case.arrays

        def loss(p):
            h = x
            for i in range(3):
                h = anp.dot(h, p[f"W{i}"]) + p[f"b{i}"]
                if i < 2:
                    h = anp.maximum(h, 0)
            z = h - anp.max(h, axis=1, keepdims=True)
            logp = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
            return -anp.sum(y * logp) / x.shape[0]
        if mode == "fwd":
            return (lambda: loss(params)), None
        vg = self.autograd.value_and_grad(loss)
        return (lambda: vg(params)), None


#: every system's name; the optional ones need their library installed
PEER_NAMES = ("numpy (hand)", "np.einsum(optimize=False)", "np.einsum(optimize=True)",
              "opt_einsum", "torch", "einsum_ad (torch)", "jax.jit", "jax (eager)",
              "autograd")
#: the systems that need an optional install (einsum_ad on torch tensors needs torch)
OPTIONAL = ("torch", "einsum_ad (torch)", "jax.jit", "jax (eager)", "autograd")
#: shorthands for --skip
SKIP_GROUPS = {"jax": ("jax.jit", "jax (eager)"),
               "np.einsum": ("np.einsum(optimize=False)", "np.einsum(optimize=True)"),
               "optional": OPTIONAL}


#: systems ``pair.py`` can also time (not part of ``peers.py``'s tables)
EXTRA = {"einsum_ad jit (torch)": EinsumADTorchJit}


def skip_names(text: str) -> set:
    """The systems named by ``--skip`` (comma-separated names or shorthands).

    Raises ValueError listing the valid names for a name that is none of them, and for
    ``einsum_ad``, which is what every other figure is compared with.
    """
    names = set()
    for item in filter(None, (s.strip() for s in text.split(","))):
        if item in SKIP_GROUPS:
            names.update(SKIP_GROUPS[item])
        elif item in PEER_NAMES:
            names.add(item)
        elif item == "einsum_ad":
            raise ValueError("--skip einsum_ad: einsum_ad is the system measured against the "
                             "others; it cannot be skipped")
        else:
            valid = ", ".join(repr(n) for n in PEER_NAMES + tuple(SKIP_GROUPS))
            raise ValueError(f"--skip: unknown system {item!r}; choose among {valid}")
    return names


def available(threads, skip=()):
    """The systems installed here (and not in ``skip``), and notes on the ones that are not."""
    systems = [EinsumAD(), Hand(), NumpyEinsum(False), NumpyEinsum(True), OptEinsum()]
    notes = []
    for name, make in (("torch", lambda: Torch(threads)),
                       ("einsum_ad (torch)", lambda: EinsumADTorch(threads)),
                       ("jax.jit", lambda: Jax(True)),
                       ("jax (eager)", lambda: Jax(False)), ("autograd", Autograd)):
        if name in skip:
            continue
        try:
            systems.append(make())
        except ImportError as exc:
            notes.append(f"{name} skipped: not installed ({exc})")
    return {s.name: s for s in systems if s.name not in skip}, notes
