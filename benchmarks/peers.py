"""einsum_ad against its peers: forward and forward+backward times, medians, ratios, targets.

Systems: einsum_ad, hand-written NumPy/BLAS, ``numpy.einsum`` (optimize False and True),
``opt_einsum.contract``, and when installed PyTorch eager, JAX (``jit`` and eager) and HIPS
autograd. Peers that are not installed are skipped with a note. Every figure is also given
as a ratio to the best *peer* (every system but einsum_ad) measured in the same run.
numpy.einsum and opt_einsum have no autodiff; their forward+backward is the forward plus
one contraction per operand with the adjoint spec (the per-operand scheme).

Run (on machines that set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, unset them for this
command only, so numpy's OpenBLAS picks its own kernel)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/peers.py [--quick]
        [--threads N] [--only attention,mlp] [--json peers.json] [--plot peers.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _util  # noqa: E402

CASE_HELP = ("matmul4x4, matvec, matmul, trace, diagonal, outer, hadamard, attention, "
             "bilinear, chain6, mps_ring8, grid3x3, mlp")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats (~1 min)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for every system (default: all cores)")
    ap.add_argument("--only", default=None, help=f"comma-separated cases among: {CASE_HELP}")
    ap.add_argument("--skip", default="", help="comma-separated systems to leave out")
    ap.add_argument("--json", default="peers.json", help="write the figures here ('' : no)")
    ap.add_argument("--plot", default="peers.png",
                    help="bar chart of einsum_ad / best peer (needs matplotlib; '' : no)")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    threads = _util.pin_threads(args.threads)
    import _peer_cases as cases_mod
    import _peer_systems as systems_mod
    import numpy as np

    pools = _util.limit_loaded_pools(threads)
    systems, notes = systems_mod.available(threads, skip=set(filter(None, args.skip.split(","))))
    pools = _util.limit_loaded_pools(threads) or pools
    env = _util.environment(threads, pools)
    cases = cases_mod.make_cases(args.quick, np.random.default_rng(0))
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {c.name for c in cases}
        if unknown:
            raise SystemExit(f"peers.py: unknown case(s) {sorted(unknown)}; choose from "
                             f"{CASE_HELP}")
        cases = [c for c in cases if c.name in wanted]
    results = {}
    for case in cases:
        results[case.name] = row = {}
        for name, system in systems.items():
            row[name] = {}
            for mode in ("fwd", "fb"):
                fn, why = system.make(case, mode)
                if fn is None:
                    row[name][mode] = None
                    if why:
                        notes.append(f"{name} on {case.name} ({mode}): {why}")
                    continue
                try:
                    print(f"  {case.name} {mode}: {name}", file=sys.stderr, flush=True)
                    # let the previous system's worker threads (OpenMP, XLA) stop spinning
                    # (on a 2-core machine they would steal this one's cores), and wait for
                    # other processes to leave the machine idle
                    time.sleep(0.05 if args.quick else 0.3)
                    _util.wait_idle(max_wait=5 if args.quick else 60)
                    row[name][mode] = _util.measure(fn, quick=args.quick,
                                                    label=f"{case.name} {mode} {name}")
                except Exception as exc:  # a peer that cannot do this case: say so
                    row[name][mode] = None
                    msg = str(exc).splitlines()[0] if str(exc) else ""
                    notes.append(f"{name} on {case.name} ({mode}) failed: "
                                 f"{type(exc).__name__}: {msg[:120]}")
    if _util.DISTURBED:
        notes.append(f"{len(_util.DISTURBED)} measurement(s) were taken again because other "
                     "processes used the CPU meanwhile (listed in the JSON)")
    report = render(env, cases, systems, results, notes)
    print(report)
    if args.json:
        _util.write_json(args.json, {"environment": env, "quick": args.quick,
                                     "results": results, "notes": notes,
                                     "disturbed": _util.DISTURBED,
                                     "targets": targets(cases, results)})
    if args.plot:
        plot(args.plot, cases, results)
    return 0


def best_peer(row, mode):
    times = [v[mode] for k, v in row.items() if k != "einsum_ad" and v.get(mode)]
    return min(times) if times else None


def render(env, cases, systems, results, notes) -> str:
    out = ["# einsum_ad against peers (medians; ratio to the best peer in the same run)", ""]
    out += _util.header_lines(env) + [""]
    names = list(systems)
    for mode, title in (("fwd", "Forward"), ("fb", "Forward + backward (all operands)")):
        rows = []
        for case in cases:
            row = results[case.name]
            best = best_peer(row, mode)
            cells = [f"`{case.label}`"]
            for n in names:
                t = row[n].get(mode)
                cells.append("–" if t is None else
                             f"{_util.fmt_time(t)} ({t / best:.2f}×)" if best else
                             _util.fmt_time(t))
            rows.append(cells)
        out += [f"## {title}", "", _util.markdown_table(["case"] + names, rows), ""]
    out += ["## Targets", "", _util.markdown_table(
        ["target", "case", "figure", "limit", "met"],
        [[t["target"], t["case"], f"{t['value']:.2f}", t["limit"], "yes" if t["met"] else "NO"]
         for t in targets(cases, results)]), ""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def targets(cases, results) -> list[dict]:
    """The issue's targets, each checked on this run's medians."""
    found = []

    def add(target, case, value, limit):
        found.append({"target": target, "case": case, "value": value, "limit": f"≤ {limit}",
                      "met": value <= limit})

    for case in cases:
        row = results[case.name]
        ea_row, hand = row.get("einsum_ad", {}), row.get("numpy (hand)", {})
        if ea_row.get("fwd") and hand.get("fwd") and ea_row["fwd"] > 1e-4:
            add("forward / hand-written NumPy", case.name, ea_row["fwd"] / hand["fwd"], 1.15)
        torch_fb = row.get("torch", {}).get("fb")
        if ea_row.get("fb") and torch_fb:
            add("fwd+bwd / torch eager", case.name, ea_row["fb"] / torch_fb, 1.0)
        jit_fb = row.get("jax.jit", {}).get("fb")
        if case.group in ("chain", "ring", "network") and ea_row.get("fb") and jit_fb:
            add("fwd+bwd / jax.jit", case.name, ea_row["fb"] / jit_fb, 1.0)
        if case.n_operands >= 3 and ea_row.get("fb") and ea_row.get("fwd"):
            add("fwd+bwd / fwd (einsum_ad)", case.name, ea_row["fb"] / ea_row["fwd"], 3.0)
        if case.name == "matmul4x4" and ea_row.get("fb") and jit_fb:
            add("4x4 fwd+bwd / jax.jit", case.name, ea_row["fb"] / jit_fb, 1.5)
        if case.name == "mlp" and ea_row.get("fb") and hand.get("fb"):
            add("MLP step / hand-written NumPy", case.name, ea_row["fb"] / hand["fb"], 1.2)
    return found


def plot(path, cases, results) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib is not installed: no plot written to {path})", file=sys.stderr)
        return
    names = [c.name for c in cases]
    fig, ax = plt.subplots(figsize=(10, 4))
    for i, mode in enumerate(("fwd", "fb")):
        vals = []
        for n in names:
            row = results[n]
            best, mine = best_peer(row, mode), row.get("einsum_ad", {}).get(mode)
            vals.append(mine / best if best and mine else float("nan"))
        ax.bar([j + 0.4 * i for j in range(len(names))], vals, width=0.4,
               label="forward" if mode == "fwd" else "forward+backward")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set_xticks([j + 0.2 for j in range(len(names))], names, rotation=30, ha="right")
    ax.set_ylabel("einsum_ad time / best peer")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    sys.exit(main())
