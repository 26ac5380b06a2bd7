"""``ea.jit`` and ``ea.vmap`` against eager einsum_ad, hand-written NumPy and ``jax.jit``.

Prints markdown tables of medians (float32, the same thread count for every system), each
figure next to its baseline measured in the same run, and the issue's targets:

* forward+backward of the 4x4 matmul, the 6-matrix chain (256²), the MPS ring (eight
  32x2x32 tensors) and the 3x3 grid with bond 16 (``_peer_cases.py``), and the MLP
  training step (784-512-512-10, batch 128, softmax cross-entropy): eager, ``ea.jit``,
  and ``ea.jit`` without each of its optimisations (fusion, buffer reuse), against
  ``jax.jit`` and hand-written NumPy;
* the first call (trace and compile, from a cleared plan cache) against ``jax.jit``'s
  (from cleared caches);
* per-example gradients of the digits MLP (64-256-10, batch 128): ``vmap(grad)`` (eager
  and under ``ea.jit``) against a loop of 128 ``grad`` calls and ``jax.vmap(jax.grad)``
  under ``jax.jit``;
* each optimisation on a case made for it (a chain written in a bad order, an elementwise
  computation on 2048² arrays, repeated and unused subexpressions), with it turned off.

Run (unset the OpenBLAS kernel overrides of this machine for the command only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/jit.py [--quick]
        [--threads 2] [--json jit.json]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(1, os.path.dirname(_HERE))  # the einsum_ad of this checkout, not another one

import _util  # noqa: E402

NETWORK_CASES = ("matmul4x4", "chain6", "mps_ring8", "grid3x3")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter repetitions")
    ap.add_argument("--threads", type=int, default=2, help="threads for every system")
    ap.add_argument("--first-calls", type=int, default=5,
                    help="first calls timed per system and case (their median is shown)")
    ap.add_argument("--json", default="", help="also write the figures to this JSON file")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    threads = _util.pin_threads(args.threads)
    import _peer_cases as cases_mod
    import _peer_systems as systems_mod
    import numpy as np

    import einsum_ad as ea

    pools = _util.limit_loaded_pools(threads)
    try:
        jax_sys = systems_mod.Jax(True)
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        jax_sys = jax = jnp = None
        print(f"(jax is not installed: its columns are left out: {exc})", file=sys.stderr)
    env = _util.environment(threads, _util.limit_loaded_pools(threads) or pools)
    rng = np.random.default_rng(0)
    cases = {c.name: c for c in cases_mod.make_cases(False, rng)}
    hand = systems_mod.Hand()
    notes = []

    def timed(fn, label):
        print(f"  {label}", file=sys.stderr, flush=True)
        time.sleep(0.05 if args.quick else 0.3)  # let other pools' threads stop spinning
        _util.wait_idle(max_wait=5 if args.quick else 60)
        return _util.measure(fn, quick=args.quick, label=label)

    # ------------------------------------------------------------- steady state

    steady, first = {}, {}
    for name in NETWORK_CASES + ("mlp",):
        case = cases[name]
        row = steady[name] = {}
        make_fb, args_fb = _einsum_ad_fb(ea, case)
        eager, jitted = make_fb(None), make_fb({})
        _check(np, jitted(*args_fb), eager(*args_fb), name)
        for label, fn in (("eager", eager), ("jit", jitted),
                          ("jit, no fusion", make_fb({"fuse": False})),
                          ("jit, no buffer reuse", make_fb({"reuse_buffers": False}))):
            row[label] = timed(_bound(fn, args_fb), f"{name} {label}")
        fn, _ = hand.make(case, "fb")
        row["numpy (hand)"] = None if fn is None else timed(fn, f"{name} hand")
        if jax_sys is not None:
            fn, _ = jax_sys.make(case, "fb")
            row["jax.jit"] = timed(fn, f"{name} jax.jit")
        # first calls: trace + optimise + compile (+ run), from cold caches
        first[name] = {"jit": _first_calls(partial(_fresh_jit_call, ea, case), ea,
                                           args.first_calls)}
        if jax is not None:
            first[name]["jax.jit"] = _first_calls(partial(_fresh_jax_call, jax, jnp, case),
                                                  None, args.first_calls, jax)

    # ------------------------------------------- each optimisation where it matters

    effects = _effects(ea, np, timed)

    # ---------------------------------------------------- per-example gradients

    per_example = _per_example(ea, np, jax, jnp, timed, notes)

    if _util.DISTURBED:
        notes.append(f"{len(_util.DISTURBED)} measurement(s) were taken again because "
                     "other processes used the CPU meanwhile")
    report = render(env, steady, first, per_example, notes, effects)
    print(report)
    if args.json:
        _util.write_json(args.json, {"environment": env, "steady": steady, "first": first,
                                     "per_example": per_example, "effects": effects,
                                     "notes": notes,
                                     "disturbed": _util.DISTURBED,
                                     "targets": targets(steady, first)})
    return 0


# ------------------------------------------------------------------- the systems


def _einsum_ad_fb(ea, case):
    """``make(jit_options) -> f`` for forward+backward of ``case`` (None: eager), and the
    arguments of ``f``: the einsum's value and every operand's cotangent, or the MLP's
    loss and parameter gradients."""
    if case.spec is None:
        import _peer_systems

        params, x, y = case.arrays
        step = ea.value_and_grad(_peer_systems.mlp_loss)
        return (lambda opts: step if opts is None else ea.jit(step, **opts)), (params, x, y)
    spec = case.spec
    f = lambda *a: ea.einsum(spec, *a)

    def fb(ct, *xs):
        out, vjp = ea.vjp(f, *xs)
        return out, vjp(ct)

    return (lambda opts: fb if opts is None else ea.jit(fb, **opts)), (case.ct, *case.arrays)


def _bound(fn, args):
    return lambda: fn(*args)


def _check(np, got, expected, name):
    for a, b in zip(_leaves(got), _leaves(expected)):
        scale = float(np.max(np.abs(b))) or 1.0
        if not np.allclose(a, b, rtol=1e-3, atol=1e-4 * scale):
            raise AssertionError(f"{name}: the jitted result differs from the eager one")


def _leaves(tree):
    import einsum_ad as ea

    return ea.tree_leaves(tree)


def _fresh_jit_call(ea, case):
    """A first call of a new jitted function (a new function object each time)."""
    make, args = _einsum_ad_fb(ea, case)
    j = make({})
    return lambda: j(*args)


def _fresh_jax_call(jax, jnp, case):
    if case.spec is None:
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

        g = jax.jit(jax.value_and_grad(loss))
        return lambda: jax.block_until_ready(g(p, jx, jy))
    spec = case.spec
    xs = [jnp.asarray(x) for x in case.arrays]
    ct = jnp.asarray(case.ct)

    def fb(xs, ct):
        out, vjp = jax.vjp(lambda *a: jnp.einsum(spec, *a), *xs)
        return out, vjp(ct)

    g = jax.jit(fb)
    return lambda: jax.block_until_ready(g(xs, ct))


def _first_calls(make, ea, repeats, jax=None):
    """Median seconds of the first call of a freshly made function, caches cleared."""
    times = []
    for _ in range(repeats):
        if ea is not None:
            ea.clear_plan_cache()
        if jax is not None:
            jax.clear_caches()
        call = make()
        _util.wait_idle(max_wait=10)
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _effects(ea, np, timed):
    """Cases made for one optimisation each: eager, ``ea.jit``, and ``ea.jit`` without it."""
    rng = np.random.default_rng(2)
    f32 = np.float32
    rows = {}
    # fusion: a chain written left to right, whose best order starts elsewhere; its
    # gradient through the fused (jitted) function differentiates the fused node
    x, A, B, C = (rng.standard_normal(s).astype(f32) / 8 for s in
                  ((1024, 64), (64, 1024), (1024, 64), (64, 1024)))

    def chain(x, A, B, C):
        return ea.sum(((x @ A) @ B) @ C)

    nums = (0, 1, 2, 3)
    rows["sum(((x @ A) @ B) @ C), 1024x64 · 64x1024 · 1024x64 · 64x1024, forward"] = (
        "fuse", chain, ea.jit(chain), ea.jit(chain, fuse=False), (x, A, B, C))
    rows["the same, fwd+bwd: jit(value_and_grad(jit(f)))"] = (
        "fuse", ea.value_and_grad(chain, argnums=nums),
        ea.jit(ea.value_and_grad(ea.jit(chain), argnums=nums)),
        ea.jit(ea.value_and_grad(ea.jit(chain, fuse=False), argnums=nums), fuse=False),
        (x, A, B, C))
    # buffer reuse: an elementwise computation on 2048² float32 (16 MiB per intermediate)
    big = rng.standard_normal((2048, 2048)).astype(f32)

    def elementwise(x):
        return ea.sum(ea.exp(ea.sin(x) * 0.5) * ea.tanh(x))

    vg = ea.value_and_grad(elementwise)
    rows["elementwise exp(sin(x)/2)·tanh(x) on 2048², fwd+bwd"] = (
        "reuse_buffers", vg, ea.jit(vg), ea.jit(vg, reuse_buffers=False), (big,))
    # duplicates and dead code: a loss written with repeated and unused subexpressions
    w = rng.standard_normal((256, 256)).astype(f32) / 16
    h = rng.standard_normal((128, 256)).astype(f32)

    def repeated(w, h):
        a = ea.tanh(h @ w)
        b = ea.tanh(h @ w)  # the same again
        unused = ea.exp(h @ w.T)  # noqa: F841 - computed, never used
        return ea.sum(a * b) + ea.sum(ea.softmax(h @ w)) + ea.sum(ea.softmax(h @ w))

    vg = ea.value_and_grad(repeated)
    rows["repeated tanh(h @ w), softmax twice, an unused product; 128x256, fwd+bwd"] = (
        "simplify", vg, ea.jit(vg), ea.jit(vg, simplify=False), (w, h))
    out = {}
    for label, (option, eager, on, off, args) in rows.items():
        _check(np, on(*args), eager(*args), label)
        _check(np, off(*args), eager(*args), label)
        out[label] = {"option": option,
                      "eager": timed(_bound(eager, args), f"{label} eager"),
                      "jit": timed(_bound(on, args), f"{label} jit"),
                      "jit without it": timed(_bound(off, args), f"{label} jit without")}
    return out


def _per_example(ea, np, jax, jnp, timed, notes):
    """Per-example gradients of the digits MLP 64-256-10 at batch 128."""
    rng = np.random.default_rng(1)
    f32 = np.float32
    params = {"W0": (rng.standard_normal((64, 256)) / 8).astype(f32),
              "b0": np.zeros(256, f32),
              "W1": (rng.standard_normal((256, 10)) / 16).astype(f32),
              "b1": np.zeros(10, f32)}
    x = rng.random((128, 64)).astype(f32)
    y = np.eye(10, dtype=f32)[rng.integers(0, 10, 128)]

    def loss(p, x, y):  # one example
        h = ea.relu(ea.einsum("i,io->o", x, p["W0"]) + p["b0"])
        return -ea.sum(y * ea.log_softmax(ea.einsum("i,io->o", h, p["W1"]) + p["b1"]))

    g = ea.grad(loss)
    batched = ea.vmap(g, in_axes=(None, 0, 0))
    jitted = ea.jit(batched)
    loop = lambda: [g(params, x[i], y[i]) for i in range(len(x))]
    ref = loop()
    for k in params:
        stacked = np.stack([r[k] for r in ref])
        if not np.allclose(jitted(params, x, y)[k], stacked, rtol=1e-4, atol=1e-6):
            raise AssertionError(f"per-example gradients of {k} differ from the loop's")
    row = {"loop of 128 ea.grad": timed(loop, "per-example loop"),
           "ea.vmap(ea.grad)": timed(lambda: batched(params, x, y), "per-example vmap"),
           "ea.jit(ea.vmap(ea.grad))": timed(lambda: jitted(params, x, y),
                                             "per-example jit(vmap)")}
    if jax is not None:
        jp = {k: jnp.asarray(v) for k, v in params.items()}
        jx, jy = jnp.asarray(x), jnp.asarray(y)

        def jloss(p, x, y):
            h = jax.nn.relu(x @ p["W0"] + p["b0"])
            return -jnp.sum(y * jax.nn.log_softmax(h @ p["W1"] + p["b1"]))

        jg = jax.jit(jax.vmap(jax.grad(jloss), in_axes=(None, 0, 0)))
        theirs = jg(jp, jx, jy)
        for k in params:
            if not np.allclose(np.asarray(theirs[k]), jitted(params, x, y)[k], rtol=1e-3,
                               atol=1e-5):
                notes.append(f"per-example gradient {k}: jax and einsum_ad differ")
        row["jax.jit(jax.vmap(jax.grad))"] = timed(
            lambda: jax.block_until_ready(jg(jp, jx, jy)), "per-example jax")
    return row


# ------------------------------------------------------------------------ report

LABELS = {"matmul4x4": "4x4 matmul fwd+bwd", "chain6": "6-matrix chain 256² fwd+bwd",
          "mps_ring8": "MPS ring, 8 × 32x2x32, fwd+bwd",
          "grid3x3": "3x3 grid, bond 16, fwd+bwd",
          "mlp": "MLP step 784-512-512-10, batch 128"}


def targets(steady, first) -> list[dict]:
    found = []

    def add(target, case, mine, base, limit):
        if mine and base:
            found.append({"target": target, "case": case, "value": mine / base,
                          "limit": limit, "met": mine / base <= limit})

    for name, row in steady.items():
        if name == "mlp":
            add("jit MLP step / hand-written NumPy", name, row["jit"], row.get("numpy (hand)"),
                1.0)
        elif name == "matmul4x4":
            add("jit fwd+bwd / jax.jit", name, row["jit"], row.get("jax.jit"), 1.0)
        else:
            add("jit fwd+bwd / jax.jit", name, row["jit"], row.get("jax.jit"), 0.8)
    for name, row in first.items():
        add("jit first call / jax.jit first call", name, row["jit"], row.get("jax.jit"), 0.3)
    return found


def render(env, steady, first, per_example, notes, effects) -> str:
    fmt = _util.fmt_time
    out = ["# ea.jit and ea.vmap (medians, float32; ratios to baselines of the same run)", ""]
    out += _util.header_lines(env) + [""]
    cols = ["eager", "jit", "jit, no fusion", "jit, no buffer reuse", "numpy (hand)", "jax.jit"]
    rows = []
    for name, row in steady.items():
        base_name = "numpy (hand)" if name == "mlp" else "jax.jit"
        base = row.get(base_name)
        cells = [LABELS[name]]
        for c in cols:
            t = row.get(c)
            cells.append("–" if t is None else
                         f"{fmt(t)} ({t / base:.2f}×)" if base and c != base_name else fmt(t))
        cells.append(base_name)
        rows.append(cells)
    out += ["## Steady state (ratio to the last column's system)", "",
            _util.markdown_table(["case"] + cols + ["baseline"], rows), ""]
    rows = []
    for name, row in first.items():
        mine, theirs = row["jit"], row.get("jax.jit")
        rows.append([LABELS[name], fmt(mine), fmt(theirs),
                     f"{mine / theirs:.2f}×" if theirs else "–"])
    out += ["## First call: trace and compile (cleared caches, median of fresh functions)",
            "", _util.markdown_table(["case", "ea.jit", "jax.jit", "ratio"], rows), ""]
    rows = []
    for label, row in effects.items():
        rows.append([label, f"`{row['option']}=False`", fmt(row["eager"]), fmt(row["jit"]),
                     fmt(row["jit without it"]),
                     f"{row['jit without it'] / row['jit']:.2f}×"])
    out += ["## Each optimisation where it matters", "", _util.markdown_table(
        ["case", "turned off", "eager", "ea.jit", "ea.jit without it",
         "without / with"], rows), ""]
    base = per_example.get("ea.jit(ea.vmap(ea.grad))")
    rows = [[k, fmt(v), f"{v / base:.2f}×"] for k, v in per_example.items()]
    out += ["## Per-example gradients, digits MLP 64-256-10, batch 128", "",
            _util.markdown_table(["method", "time", "ratio to ea.jit(ea.vmap(ea.grad))"],
                                 rows), ""]
    out += ["## Targets", "", _util.markdown_table(
        ["target", "case", "figure", "limit", "met"],
        [[t["target"], t["case"], f"{t['value']:.2f}", f"≤ {t['limit']}",
          "yes" if t["met"] else "NO"] for t in targets(steady, first)]), ""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
