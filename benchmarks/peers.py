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
        [--threads N] [--only attention,mlp] [--skip optional] [--json FILE] [--plot FILE]

The JSON and the plot go to ``benchmarks/results/`` (``peers.json``, ``peers.png``; with
``--quick``, ``peers-quick.json`` and ``peers-quick.png``) unless ``--json``/``--plot`` say
otherwise. A full run waits for the machine to be idle before each measurement and takes
again one that another process disturbed; ``--quick`` (smaller sizes, fewer repeats)
pauses only when the system changes and waits at most 15 s in all for idleness, and its
targets are not graded: they were set for the full sizes.
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
    ap.add_argument("--quick", action="store_true",
                    help="small sizes, few repeats, at most 15 s of waiting for an idle "
                         "machine (8 s of CPU without the optional peers, 25 s with them); "
                         "targets not graded")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for every system (default: all cores)")
    ap.add_argument("--only", default=None, help=f"comma-separated cases among: {CASE_HELP}")
    ap.add_argument("--skip", default="",
                    help="comma-separated systems to leave out: numpy (hand), "
                         "np.einsum(optimize=False), np.einsum(optimize=True), opt_einsum, "
                         "torch, jax.jit, jax (eager), autograd; or jax, np.einsum, optional "
                         "(torch, both jax and autograd)")
    ap.add_argument("--json", default=None,
                    help="write the figures here (default: benchmarks/results/peers.json; "
                         "'' : no)")
    ap.add_argument("--plot", default=None,
                    help="bar chart of einsum_ad / best peer (needs matplotlib; default: "
                         "benchmarks/results/peers.png; '' : no)")
    args = ap.parse_args(argv)
    import _peer_systems as systems_mod  # numpy and peers load only in main, after pinning

    try:
        args.skip = systems_mod.skip_names(args.skip)
    except ValueError as exc:
        ap.error(str(exc))
    if args.only:
        wanted = set(filter(None, (s.strip() for s in args.only.split(","))))
        unknown = wanted - set(CASE_HELP.split(", "))
        if unknown or not wanted:  # not a run of nothing that exits 0
            what = f"unknown case(s) {sorted(unknown)}" if unknown else "no case"
            ap.error(f"--only: {what}; choose among {CASE_HELP}")
        args.only = wanted
    return args


def main(argv=None):
    threads = _util.pin_threads(_util.threads_arg(argv))
    args = parse_args(argv)
    import _peer_cases as cases_mod
    import _peer_systems as systems_mod
    import numpy as np

    pools = _util.limit_loaded_pools(threads)
    systems, notes = systems_mod.available(threads, skip=args.skip)
    pools = _util.limit_loaded_pools(threads) or pools
    env = _util.environment(threads, pools)
    cases = cases_mod.make_cases(args.quick, np.random.default_rng(0))
    assert [c.name for c in cases] == CASE_HELP.split(", "), "update CASE_HELP"
    if args.only:
        cases = [c for c in cases if c.name in args.only]
    suffix = "-quick" if args.quick else ""
    json_path = _util.output_path(args.json, f"peers{suffix}.json")
    plot_path = _util.output_path(args.plot, f"peers{suffix}.png")
    results = {case.name: {name: {} for name in systems} for case in cases}
    # A full run measures case by case (each case's systems minutes apart at most), and
    # before each measurement lets the previous system's worker threads (OpenMP, XLA) stop
    # spinning (on a 2-core machine they would steal this one's cores) and waits for other
    # processes to leave the machine idle: 0.3 s to 60 s, 110 times. A quick run measures
    # system by system instead, so that it pauses only when the system changes (9 times,
    # 0.5 s each, plus waits for idleness of 15 s in all at most); without any pause,
    # numpy's GEMMs ran 50-100x slower right after JAX.
    jobs = ([(case, name) for case in cases for name in systems] if not args.quick else
            [(case, name) for name in systems for case in cases])
    previous = None
    for case, name in jobs:
        system = systems[name]
        for mode in ("fwd", "fb"):
            fn, why = system.make(case, mode)
            if fn is None:
                results[case.name][name][mode] = None
                if why:
                    notes.append(f"{name} on {case.name} ({mode}): {why}")
                continue
            try:
                print(f"  {case.name} {mode}: {name}", file=sys.stderr, flush=True)
                if not args.quick:
                    time.sleep(0.3)
                    _util.wait_idle(max_wait=60)
                elif name != previous:
                    time.sleep(0.5)  # the previous system's threads settle
                    _util.wait_idle(max_wait=2.0, quick=True)
                previous = name
                results[case.name][name][mode] = _util.measure(
                    fn, quick=args.quick, label=f"{case.name} {mode} {name}")
            except Exception as exc:  # a peer that cannot do this case: say so
                results[case.name][name][mode] = None
                msg = str(exc).splitlines()[0] if str(exc) else ""
                notes.append(f"{name} on {case.name} ({mode}) failed: "
                             f"{type(exc).__name__}: {msg[:120]}")
    if _util.DISTURBED:
        notes.append(f"{len(_util.DISTURBED)} measurement(s) were taken again because other "
                     "processes used the CPU meanwhile (listed in the JSON)")
    report = render(env, cases, systems, results, notes, quick=args.quick)
    print(report, flush=True)
    if json_path:
        _util.write_json(json_path, {"environment": env, "quick": args.quick,
                                     "results": results, "notes": notes,
                                     "disturbed": _util.DISTURBED,
                                     "targets": targets(cases, results, graded=not args.quick)})
    if plot_path:
        plot(plot_path, cases, results)
    return 0


def best_peer(row, mode):
    times = [v[mode] for k, v in row.items() if k != "einsum_ad" and v.get(mode)]
    return min(times) if times else None


def render(env, cases, systems, results, notes, quick=False) -> str:
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
    found = targets(cases, results, graded=not quick)
    out += ["## Targets", ""]
    if quick:
        out += ["A --quick run: the figures are of the small sizes, and the targets are "
                "graded only on full runs (they were set for the full sizes).", ""]
    out += [_util.markdown_table(
        ["target", "case", "figure", "limit", "met"],
        [[t["target"], t["case"], f"{t['value']:.2f}", t["limit"],
          "not graded" if t["met"] is None else "yes" if t["met"] else "NO"]
         for t in found]), ""]
    if notes:
        out += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(out)


def targets(cases, results, graded=True) -> list[dict]:
    """The issue's targets, each checked on this run's medians (``met`` is None when not
    ``graded``: a quick run's small sizes say nothing about the full-size targets)."""
    found = []

    def add(target, case, value, limit):
        found.append({"target": target, "case": case, "value": value, "limit": f"≤ {limit}",
                      "met": (value <= limit) if graded else None})

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
    plt.close(fig)
    print(f"wrote {_util.shown(path)}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
