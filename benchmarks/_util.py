"""Shared by the benchmark scripts: thread pinning, timing, the environment header, tables.

``pin_threads`` must run before numpy (or any BLAS user) is imported: it restricts the
process to N cores and sets the thread-count variables every library reads at start-up.
"""

from __future__ import annotations

import gc
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import sys
import time

# The checkout these scripts belong to comes first: `python benchmarks/peers.py` puts only
# benchmarks/ on sys.path, so an einsum_ad installed from another checkout (an editable
# install elsewhere) would be the one measured.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(1, ROOT)


def pin_threads(n: int | None) -> int:
    """Pin this process and every library's thread pool to ``n`` threads (default: all cores).

    Call before importing numpy, torch or jax. Returns the thread count used.
    """
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    total = len(cores) if cores else (os.cpu_count() or 1)
    n = total if n is None else max(1, min(int(n), total))
    if cores and n < total:
        os.sched_setaffinity(0, set(cores[:n]))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    if n == 1:  # XLA's CPU backend: one intra-op thread, no Eigen thread pool
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1").strip()
    return n


def threads_arg(argv, default=None):
    """``--threads`` read before argparse runs (threads are pinned before numpy is imported)."""
    import argparse

    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--threads", type=int, default=default)
    return ap.parse_known_args(argv)[0].threads


def limit_loaded_pools(n: int) -> list:
    """After imports: cap the BLAS/OpenMP pools threadpoolctl sees (numpy's, torch's)."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    threadpoolctl.threadpool_limits(limits=n)
    return threadpoolctl.threadpool_info()


def _cpu_snapshot():
    """(wall time, CPU-seconds busy on the whole machine, CPU-seconds of this process)."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:9]]
    except OSError:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    busy = (sum(vals) - vals[3] - vals[4]) / tick
    return time.perf_counter(), busy, ru.ru_utime + ru.ru_stime


def _others_load(s0, s1) -> float:
    """Cores' worth of CPU other processes used between two snapshots."""
    if s0 is None or s1 is None:
        return 0.0
    wall = max(s1[0] - s0[0], 1e-9)
    return max(0.0, (s1[1] - s0[1]) - (s1[2] - s0[2])) / wall


#: seconds a --quick run may still spend waiting for other processes, in all (a shared
#: machine must not make a quick run slow: its figures are not graded anyway)
QUICK_WAIT_BUDGET = [15.0]


def wait_idle(max_wait=60.0, threshold=0.15, quick=False) -> float:
    """Wait (up to ``max_wait`` s) until other processes use under ``threshold`` cores.

    With ``quick``, the wait also comes out of :data:`QUICK_WAIT_BUDGET`; once that is
    spent, nothing waits any more. Returns the seconds waited.
    """
    if quick:
        max_wait = min(max_wait, QUICK_WAIT_BUDGET[0])
        if max_wait <= 0:
            return 0.0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        s0 = _cpu_snapshot()
        time.sleep(0.5)
        if _others_load(s0, _cpu_snapshot()) < threshold:
            break
    waited = time.perf_counter() - t0
    if quick:
        QUICK_WAIT_BUDGET[0] -= waited
    return waited


DISTURBED = []  # measurements retried because another process took the CPU meanwhile


def measure(fn, quick=False, min_time=None, label=""):
    """Median seconds per call of ``fn`` (after one warm-up call), over repeated batches.

    The machine may be shared: a measurement (of at least 0.2 s, so that the kernel's 10 ms
    CPU accounting is precise enough) during which other processes used more than a fifth
    of a core is thrown away and taken again once the machine is idle (three tries). A
    quick measurement is taken again only once, after waiting at most 2 s for idleness (and
    at most :data:`QUICK_WAIT_BUDGET` in all); a quick call slower than half a second is
    timed once, after the warm-up.
    """
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    if quick and once > 0.5:
        return once
    target = min_time if min_time is not None else (0.005 if quick else 0.05)
    number = max(1, int(target / once))
    repeats = 3 if quick else 7
    if once > 0.5:
        repeats = 1 if quick else 3
    for attempt in range(2 if quick else 3):
        # a full collection before each batch keeps collector pauses out of the timing; with
        # torch and jax loaded it costs 0.25 s, so a quick run collects the young objects
        gc.collect(1 if quick else 2)
        s0 = _cpu_snapshot()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            times.append((time.perf_counter() - t0) / number)
        s1 = _cpu_snapshot()
        load = _others_load(s0, s1)
        if load < 0.2 or s1 is None or s1[0] - s0[0] < 0.2:
            break
        DISTURBED.append({"what": label, "attempt": attempt, "others_load": round(load, 2)})
        wait_idle(max_wait=2.0 if quick else 60.0, quick=quick)
    return statistics.median(times)


def fmt_time(seconds) -> str:
    if seconds is None:
        return "–"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def markdown_table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def environment(threads: int, pools) -> dict:
    """Versions, BLAS kernel and thread counts, for the header of every table."""
    import numpy as np
    import opt_einsum

    env = {
        "python": platform.python_version(),
        "machine": _cpu_name(),
        "numpy": np.__version__,
        "opt_einsum": opt_einsum.__version__,
        "threads": threads,
        "blas": [{k: p.get(k) for k in ("internal_api", "version", "architecture",
                                         "threading_layer", "num_threads", "prefix")}
                 for p in pools if p.get("user_api") == "blas"],
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS"),
    }
    import einsum_ad

    env["einsum_ad"] = einsum_ad.__version__
    # the peers' versions from their metadata: importing torch and jax only to read them
    # cost seconds, and their millions of objects made every gc.collect() 0.25 s slower
    for mod in ("torch", "jax", "autograd"):
        if mod in sys.modules:
            env[mod] = getattr(sys.modules[mod], "__version__", "installed")
            continue
        try:
            env[mod] = importlib.metadata.version(mod)
        except importlib.metadata.PackageNotFoundError:
            env[mod] = None
    if "torch" in sys.modules:  # only when it is measured
        env["torch_threads"] = sys.modules["torch"].get_num_threads()
    return env


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def header_lines(env: dict) -> list[str]:
    blas = "; ".join(f"{b['internal_api']} {b['version']} ({b['architecture']} kernel, "
                     f"{b['num_threads']} threads)" for b in env["blas"]) or "unknown"
    peers = ", ".join(f"{m} {env[m]}" for m in ("torch", "jax", "autograd") if env.get(m))
    return [
        f"- machine: {env['machine']}; python {env['python']}",
        f"- einsum_ad {env['einsum_ad']}, numpy {env['numpy']}, opt_einsum "
        f"{env['opt_einsum']}; peers: {peers or 'none installed'}",
        f"- BLAS: {blas}; threads pinned to {env['threads']} for every system"
        + (f" (torch {env['torch_threads']})" if "torch_threads" in env else "")
        + (f"; XLA_FLAGS={env['XLA_FLAGS']}" if env.get("XLA_FLAGS") else ""),
    ]


RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def output_path(given, default_name):
    """Where an output goes: ``given`` as it is (``''``: nowhere, None), or by default
    ``benchmarks/results/<default_name>`` (created if needed), never the current directory."""
    if given is not None:
        return given or None
    os.makedirs(RESULTS, exist_ok=True)
    return os.path.join(RESULTS, default_name)


def shown(path) -> str:
    """``path`` relative to the current directory when it is below it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def write_json(path, payload) -> None:
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, default=str)
    print(f"wrote {shown(path)}", file=sys.stderr)


# ---------------------------------------------------------------------- lock-step timing
#
# side_by_side.py and pair.py time two things in alternation, a short sample each, and
# report the median of the rounds' ratios (see side_by_side.py for why).


def add_lockstep_args(ap, what) -> None:
    """``--threads``, ``--rounds``, ``--sample`` and ``--quick`` of a lock-step script."""
    ap.add_argument("--threads", type=int, default=1, help="threads of each (1)")
    ap.add_argument("--rounds", type=int, default=None,
                    help=f"alternated samples of each {what} per row (15; quick 3)")
    ap.add_argument("--sample", type=float, default=None,
                    help="seconds of calls per sample (0.05; quick 0.005)")
    ap.add_argument("--quick", action="store_true", help="peers.py's small sizes, few rounds")


def check_lockstep_args(ap, args) -> None:
    """Fill the defaults of :func:`add_lockstep_args`'s options and refuse bad values."""
    if args.threads < 1:
        ap.error(f"--threads {args.threads}: must be at least 1")
    if args.rounds is None:
        args.rounds = 3 if args.quick else 15
    if args.rounds < 1:
        ap.error(f"--rounds {args.rounds}: must be at least 1")
    if args.sample is None:
        args.sample = 0.005 if args.quick else 0.05
    if not args.sample > 0:
        ap.error(f"--sample {args.sample}: must be positive")


def sample_seconds(fn, number) -> float:
    """Seconds per call of ``fn`` over ``number`` calls, the cyclic collector held off."""
    gc.collect(1)
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    finally:
        gc.enable()


def ratio_summary(first, second) -> dict:
    """Medians of two lists of per-round times and of their ratios (first / second), with
    the first and third quartiles of the ratios (the lowest and highest of fewer than 4)."""
    ratios = [x / y for x, y in zip(first, second)]
    if len(ratios) < 4:
        lo, hi = min(ratios), max(ratios)
    else:
        q = statistics.quantiles(ratios, n=4)
        lo, hi = q[0], q[2]
    return {"ratio": statistics.median(ratios), "middle_half": [lo, hi], "ratios": ratios,
            "first": statistics.median(first), "second": statistics.median(second)}
