"""Dask graphs: einsum_ad's planned pairwise graph against ``dask.array.einsum``.

A chain of four n x n float64 matrices in chunks of c (``"ab,bc,cd,de->ae"``) as Dask
arrays, on the local threaded scheduler. For each system: the tasks in the graph (as built,
and after dask's optimisation), the time to build it (tracing and graph construction),
and the median wall time of ``compute``:

* einsum_ad forward: opt_einsum's order, each pairwise step one blockwise GEMM;
* einsum_ad forward+backward: ``ea.vjp`` with a random cotangent, the output and all four
  cotangents computed together (``dask.compute``);
* ``dask.array.einsum`` forward: one blockwise over all five indices (every combination of
  blocks contracts its four blocks; each such task runs NumPy's einsum with
  ``optimize=True``, i.e. three GEMMs: with ``optimize=False`` a block would run a
  five-deep loop);
* dask's ``matmul`` chained by hand, ``((A @ B) @ C) @ D`` (for square matrices every
  order costs three n^3 GEMMs): what a user who writes the order themselves gets.

BLAS is pinned to one thread per task and the scheduler runs ``--workers`` threads (default:
the cores), so the tasks share the cores instead of oversubscribing them. The systems are
computed in turn, round after round (after a warm-up each), so that a disturbance by
another process on a shared machine spreads over all of them.

Run: ``python benchmarks/dask_graphs.py [--n 2048] [--chunk 512] [--repeat 3]
[--workers N] [--json FILE]`` (``--n 4096 --chunk 1024``: the same 4x4 grid of blocks, 8x
the work per task; dask.einsum then takes minutes per call).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(1, os.path.dirname(_HERE))  # the einsum_ad of this checkout, not another
import _util  # noqa: E402

SPEC = "ab,bc,cd,de->ae"


def _tasks(*arrays, optimize=False) -> int:
    """Distinct tasks in the graph of ``arrays`` (shared parts counted once)."""
    import dask

    if optimize:
        arrays = dask.optimize(*arrays)
    keys = set()
    for a in arrays:
        keys.update(a.__dask_graph__().keys())
    return len(keys)


def _compute_seconds(arrays, workers):
    """Wall time of one ``dask.compute`` of ``arrays`` on the threaded scheduler."""
    import dask

    _util.wait_idle(max_wait=5)  # the machine may be shared: start when it is quiet
    t0 = time.perf_counter()
    dask.compute(*arrays, scheduler="threads", num_workers=workers)
    return time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2048, help="matrix size (default 2048)")
    ap.add_argument("--chunk", type=int, default=512, help="chunk size (default 512)")
    ap.add_argument("--repeat", type=int, default=3, help="computes per system (median)")
    ap.add_argument("--workers", type=int, default=None, help="scheduler threads (cores)")
    ap.add_argument("--skip-dask-einsum", action="store_true",
                    help="leave out dask.array.einsum (minutes per call at n=4096)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    workers = args.workers or len(os.sched_getaffinity(0))
    _util.pin_threads(1)  # one BLAS thread per task: the scheduler's threads share the cores

    import dask
    import dask.array as da
    import numpy as np

    import einsum_ad as ea

    pools = _util.limit_loaded_pools(1)
    n, c = args.n, args.chunk
    rng = np.random.default_rng(0)
    host = [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(4)]
    ops = [da.from_array(h, chunks=c) for h in host]
    cot = da.from_array(rng.standard_normal((n, n)), chunks=c)
    systems = []  # (name, arrays, build seconds)

    def build(name, make):
        t0 = time.perf_counter()
        arrays = make()
        systems.append((name, arrays, time.perf_counter() - t0))
        return arrays

    (fwd,) = build("einsum_ad forward", lambda: [ea.einsum(SPEC, *ops)])

    def fwd_bwd():
        out, vjp_fn = ea.vjp(lambda *o: ea.einsum(SPEC, *o), *ops)
        return [out, *vjp_fn(cot)]

    build("einsum_ad forward+backward (output and 4 cotangents)", fwd_bwd)
    (hand,) = build("dask matmul by hand, ((A@B)@C)@D, forward",
                    lambda: [((ops[0] @ ops[1]) @ ops[2]) @ ops[3]])
    if not args.skip_dask_einsum:
        warnings.filterwarnings("ignore", message="Increasing number of chunks")
        (dein,) = build("dask.array.einsum forward (optimize=True per block)",
                        lambda: [da.einsum(SPEC, *ops, optimize=True)])

    # a warm-up compute each (kept as a sample when it took over 10 s), then the systems
    # in turn, round after round: a disturbance by another process spreads over all
    times = {}
    for name, arrays, _ in systems:
        first = _compute_seconds(arrays, workers)
        times[name] = [first] if first > 10 else []
    for _ in range(args.repeat):
        for name, arrays, _ in systems:
            if len(times[name]) < args.repeat:
                times[name].append(_compute_seconds(arrays, workers))
    rows, results = [], {}
    for name, arrays, built in systems:
        t = statistics.median(times[name])
        raw, opt = _tasks(*arrays), _tasks(*arrays, optimize=True)
        results[name] = {"tasks": raw, "tasks_optimized": opt, "build_s": built,
                         "compute_s": t, "samples_s": times[name]}
        rows.append([name, f"{raw:,}", f"{opt:,}", _util.fmt_time(built), _util.fmt_time(t)])

    # the systems agree (on a corner block: the whole product was timed above)
    corner = (slice(0, min(n, 64)), slice(0, min(n, 64)))
    want = np.linalg.multi_dot(host)[corner]
    checks = [fwd, hand] + ([] if args.skip_dask_einsum else [dein])
    for got in dask.compute(*(a[corner] for a in checks), scheduler="threads"):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)

    blas = "; ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')} "
                     "kernel)" for p in pools if p.get("user_api") == "blas") or "unknown"
    env = {"machine": _util._cpu_name(), "python": platform.python_version(),
           "numpy": np.__version__, "dask": dask.__version__, "einsum_ad": ea.__version__,
           "blas": blas}
    print(f"# Dask graphs: {SPEC} on {n}x{n} float64 in chunks of {c} "
          f"({n // c}x{n // c} blocks), threaded scheduler, {workers} workers, "
          f"medians of {args.repeat}\n")
    print(f"- machine: {env['machine']}; python {env['python']}; einsum_ad {env['einsum_ad']}, "
          f"numpy {env['numpy']}, dask {env['dask']}")
    print(f"- BLAS: {blas}, 1 thread per task\n")
    print(_util.markdown_table(["system", "tasks", "tasks (optimized)", "build", "compute"],
                               rows))
    f = results["einsum_ad forward"]
    fb = results["einsum_ad forward+backward (output and 4 cotangents)"]
    print(f"\neinsum_ad forward+backward / forward: {fb['compute_s'] / f['compute_s']:.2f}x "
          f"compute, {fb['tasks'] / f['tasks']:.2f}x tasks")
    if not args.skip_dask_einsum:
        d = results["dask.array.einsum forward (optimize=True per block)"]
        print(f"dask.array.einsum forward / einsum_ad forward: "
              f"{d['compute_s'] / f['compute_s']:.1f}x compute, "
              f"{d['tasks'] / f['tasks']:.1f}x tasks; / einsum_ad forward+backward: "
              f"{d['compute_s'] / fb['compute_s']:.1f}x compute")
    if args.json:
        _util.write_json(args.json, {"n": n, "chunk": c, "workers": workers,
                                     "repeat": args.repeat, "env": env, "results": results})


if __name__ == "__main__":
    main()
