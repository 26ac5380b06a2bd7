"""Contraction paths: every opt_einsum optimizer on chains, networks, rings, attention, bilinear.

For each expression and optimizer: the forward FLOPs and the largest intermediate of the
path it finds, the time the path search takes (``opt_einsum.contract_path``, paid once per
plan by einsum_ad), and einsum_ad's forward and forward+backward times with that path
(medians, plans cached, search excluded). ``optimal`` and ``branch-all`` are only run on
expressions of at most 8 operands (their search grows factorially).

Run (on machines that set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, unset them for this
command only)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/paths.py [--quick]
        [--threads N] [--only chain8,ring8] [--json FILE] [--plot FILE]

The JSON and the plot go to ``benchmarks/results/`` (``paths.json``, ``paths.png``; with
``--quick``, ``paths-quick.json`` and ``paths-quick.png``) unless ``--json``/``--plot`` say
otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _util  # noqa: E402

EXPRESSIONS = ("chain8", "ring8", "mps_overlap6", "grid3x3", "attention_qkv", "bilinear")
OPTIMIZERS = ["greedy", "optimal", "dp", "branch-1", "branch-2", "branch-all",
              "random-greedy", "auto", "auto-hq"]
EXHAUSTIVE = {"optimal", "branch-all"}


def expressions(quick, rng):
    """(name, subscripts, shapes) for each expression."""
    import numpy as np  # noqa: F401  (imported after pinning threads)
    from opt_einsum import get_symbol as s

    out = []
    dims = [32, 256, 8, 128, 4, 256, 16, 64, 32] if quick else \
        [64, 512, 16, 256, 8, 512, 32, 128, 64]
    subs = [s(i) + s(i + 1) for i in range(8)]
    out.append(("chain8", ",".join(subs) + "->" + s(0) + s(8),
                [(dims[i], dims[i + 1]) for i in range(8)]))
    n, bond, phys = 8, (8 if quick else 32), 2
    subs = [s(i) + s(n + i) + s((i + 1) % n) for i in range(n)]
    out.append(("ring8", ",".join(subs) + "->" + "".join(s(n + i) for i in range(n)),
                [(bond, phys, bond)] * n))
    # <psi|psi> of a 6-site open MPS: 12 tensors (too many for the exhaustive searches)
    sites, bond, phys = 6, (8 if quick else 24), 4
    ket = [s(i) + s(20 + i) + s(i + 1) for i in range(sites)]
    bra = [s(10 + i) + s(20 + i) + s(10 + i + 1) for i in range(sites)]
    shapes = [((1 if i == 0 else bond), phys, (1 if i == sites - 1 else bond))
              for i in range(sites)] * 2
    out.append(("mps_overlap6", ",".join(ket + bra) + "->", shapes))
    bond = 4 if quick else 10
    grid = "ag,abh,bi,cgj,cdhk,dil,ej,efk,fl"
    out.append(("grid3x3", grid + "->", [(bond,) * len(t) for t in grid.split(",")]))
    b, h, L, d = (2, 4, 128, 32) if quick else (4, 8, 512, 64)
    out.append(("attention_qkv", "bhqd,bhkd,bhke->bhqe", [(b, h, L, d)] * 3))
    bsz, dd, o = (64, 64, 32) if quick else (128, 256, 64)
    out.append(("bilinear", "bi,oij,bj->bo", [(bsz, dd), (o, dd, dd), (bsz, dd)]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for numpy's BLAS (default: all cores)")
    ap.add_argument("--only", default=None,
                    help=f"comma-separated expression names among: {', '.join(EXPRESSIONS)}")
    ap.add_argument("--json", default=None,
                    help="write the figures here (default: benchmarks/results/paths.json; "
                         "'' : no)")
    ap.add_argument("--plot", default=None,
                    help="forward time per optimizer (needs matplotlib; default: "
                         "benchmarks/results/paths.png; '' : no)")
    args = ap.parse_args(argv)
    wanted = None
    if args.only is not None:
        wanted = set(filter(None, (s.strip() for s in args.only.split(","))))
        unknown = wanted - set(EXPRESSIONS)
        if unknown or not wanted:  # not a run of nothing that exits 0
            what = f"unknown expression(s) {sorted(unknown)}" if unknown else "no expression"
            ap.error(f"--only: {what}; choose among {', '.join(EXPRESSIONS)}")
    threads = _util.pin_threads(args.threads)
    import numpy as np
    import opt_einsum

    import einsum_ad as ea

    env = _util.environment(threads, _util.limit_loaded_pools(threads))
    rng = np.random.default_rng(0)
    exprs = expressions(args.quick, rng)
    assert tuple(e[0] for e in exprs) == EXPRESSIONS, "update EXPRESSIONS"
    if wanted:
        exprs = [e for e in exprs if e[0] in wanted]
    suffix = "-quick" if args.quick else ""
    json_path = _util.output_path(args.json, f"paths{suffix}.json")
    plot_path = _util.output_path(args.plot, f"paths{suffix}.png")
    results = {}
    for name, spec, shapes in exprs:
        scale = 1.0 / np.sqrt(max(max(sh) for sh in shapes))
        arrays = [(rng.standard_normal(sh) * scale).astype(np.float32) for sh in shapes]
        out_shape = np.shape(ea.einsum(spec, *arrays, optimize="greedy"))
        ct = rng.standard_normal(out_shape).astype(np.float32)
        results[name] = rows = {}
        for opt in OPTIMIZERS:
            if opt in EXHAUSTIVE and len(shapes) > 8:
                continue
            print(f"  {name}: {opt}", file=sys.stderr, flush=True)
            rows[opt] = measure_one(ea, opt_einsum, spec, shapes, arrays, ct, opt, args.quick)
    print(render(env, exprs, results), flush=True)
    if json_path:
        _util.write_json(json_path, {"environment": env, "quick": args.quick,
                                     "results": results})
    if plot_path:
        plot(plot_path, results)
    return 0


def measure_one(ea, opt_einsum, spec, shapes, arrays, ct, opt, quick) -> dict:
    """Path-search time, FLOPs, largest intermediate, forward and forward+backward times."""
    search = _util.measure(
        lambda: opt_einsum.contract_path(spec, *shapes, shapes=True, optimize=opt),
        quick=True, min_time=0.02)
    e = ea.explain(spec, *arrays, optimize=opt)
    f = lambda *xs: ea.einsum(spec, *xs, optimize=opt)

    def fb():
        out, vjp = ea.vjp(f, *arrays)
        return vjp(ct)
    fwd = _util.measure(lambda: f(*arrays), quick=quick)
    return {"flops": e.flops_forward, "flops_backward": e.flops_backward,
            "largest": e.largest_intermediate, "search": search, "fwd": fwd,
            "fb": _util.measure(fb, quick=quick), "steps": len(e.forward)}


def render(env, exprs, results) -> str:
    out = ["# Contraction paths by optimizer (einsum_ad, float32, medians)", ""]
    out += _util.header_lines(env) + [""]
    for name, spec, shapes in exprs:
        rows = results[name]
        best = min(r["fwd"] for r in rows.values())
        table = []
        for opt, r in rows.items():
            table.append([opt, f"{r['flops']:.3g}", f"{r['largest']:.3g}",
                          _util.fmt_time(r["search"]), _util.fmt_time(r["fwd"]),
                          f"{r['fwd'] / best:.2f}×", _util.fmt_time(r["fb"]),
                          f"{r['fb'] / r['fwd']:.2f}"])
        shown = spec if len(spec) <= 60 else spec[:57] + "..."
        out += [f"## {name}: `{shown}`", "",
                f"{len(shapes)} operands, shapes {shapes[0]}{', ...' if len(shapes) > 1 else ''}",
                "", _util.markdown_table(
                    ["optimizer", "FLOPs (fwd)", "largest intermediate", "path search",
                     "forward", "vs best", "fwd+bwd", "fwd+bwd / fwd"], table), ""]
    return "\n".join(out)


def plot(path, results) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib is not installed: no plot written to {path})", file=sys.stderr)
        return
    names = list(results)
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(OPTIMIZERS)
    for i, opt in enumerate(OPTIMIZERS):
        xs, ys = [], []
        for j, n in enumerate(names):
            if opt in results[n]:
                xs.append(j + i * width)
                ys.append(results[n][opt]["fwd"] * 1e3)
        ax.bar(xs, ys, width=width, label=opt)
    ax.set_xticks([j + 0.4 for j in range(len(names))], names, rotation=20, ha="right")
    ax.set_ylabel("forward time (ms)")
    ax.set_yscale("log")
    ax.legend(fontsize=7, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {_util.shown(path)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
