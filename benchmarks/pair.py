"""Two of ``peers.py``'s systems on its cases, timed in alternation in one process.

``peers.py`` times one system after another, seconds apart; on a machine whose CPU switches
between speed states for seconds at a time (this one: see ``side_by_side.py``) the ratio of
two systems' figures from one run can be off by more than the difference it is meant to
show. This script times two systems round by round, a short sample each (``--sample``,
50 ms), swapping which goes first every round, and reports per case the median of the
rounds' ratios (the first system's time over the second's) with the middle half of them.

Run (e.g. einsum_ad on torch tensors against torch eager, forward+backward)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/pair.py \\
        --systems "einsum_ad (torch),torch" [--mode fb] [--only attention,mlp]
        [--threads 1] [--rounds 15] [--quick] [--json FILE]

The JSON goes to ``benchmarks/results/pair.json`` (``--json ''``: none).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _util  # noqa: E402  (also puts this checkout first on sys.path)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", default="einsum_ad (torch),torch",
                    help="two systems of peers.py, comma-separated (default: "
                         "'einsum_ad (torch),torch'); the ratio is the first over the second")
    ap.add_argument("--mode", default="fb", choices=("fwd", "fb"),
                    help="forward (fwd) or forward+backward (fb, the default)")
    ap.add_argument("--only", default="", help="comma-separated cases of peers.py")
    _util.add_lockstep_args(ap, "system")
    ap.add_argument("--json", default=None,
                    help="write the figures here (default: benchmarks/results/pair.json; "
                         "'' : no)")
    args = ap.parse_args(argv)
    names = [s.strip() for s in args.systems.split(",") if s.strip()]
    if len(names) != 2 or names[0] == names[1]:
        ap.error(f"--systems {args.systems!r}: name two different systems")
    args.systems = names
    _util.check_lockstep_args(ap, args)
    return args


def paired(fa, fb, rounds, sample):
    """Medians of both callables' seconds per call and of the rounds' ratios (fa / fb)."""
    for f in (fa, fb):
        f()
        f()
    t0 = time.perf_counter()
    fa()
    fb()
    number = max(1, int(sample / max(time.perf_counter() - t0, 1e-7) * 2))
    a, b = [], []
    for r in range(rounds):
        if r % 2 == 0:
            a.append(_util.sample_seconds(fa, number))
            b.append(_util.sample_seconds(fb, number))
        else:
            b.append(_util.sample_seconds(fb, number))
            a.append(_util.sample_seconds(fa, number))
    return {**_util.ratio_summary(a, b), "calls_per_sample": number}


def main(argv=None):
    threads = _util.pin_threads(_util.threads_arg(argv, 1))
    args = parse_args(argv)
    import _peer_cases
    import _peer_systems
    import numpy as np

    names = ("einsum_ad",) + _peer_systems.PEER_NAMES + tuple(_peer_systems.EXTRA)
    unknown = [n for n in args.systems if n not in names]
    if unknown:
        valid = ", ".join(repr(n) for n in names)
        print(f"pair.py: error: --systems: unknown system(s) {unknown}; choose among {valid}",
              file=sys.stderr)
        return 2
    skip = set(_peer_systems.PEER_NAMES) - set(args.systems)
    systems, notes = _peer_systems.available(threads, skip=skip)
    for name in args.systems:
        if name in _peer_systems.EXTRA:
            try:
                systems[name] = _peer_systems.EXTRA[name](threads)
            except ImportError as exc:
                notes.append(f"{name}: {exc}")
    _util.limit_loaded_pools(threads)
    missing = [n for n in args.systems if n not in systems]
    if missing:
        print(f"pair.py: error: not installed here: {missing} ({'; '.join(notes)})",
              file=sys.stderr)
        return 2
    cases = _peer_cases.make_cases(args.quick, np.random.default_rng(0))
    if args.only:
        wanted = set(filter(None, (s.strip() for s in args.only.split(","))))
        known = {c.name for c in cases}
        if not wanted or wanted - known:
            what = f"unknown case(s) {sorted(wanted - known)}" if wanted else "no case"
            names = ", ".join(c.name for c in cases)
            print(f"pair.py: error: --only: {what}; choose among {names}", file=sys.stderr)
            return 2
        cases = [c for c in cases if c.name in wanted]
    first, second = (systems[n] for n in args.systems)
    results, rows = {}, []
    for case in cases:
        fa, why_a = first.make(case, args.mode)
        fb, why_b = second.make(case, args.mode)
        if fa is None or fb is None:
            rows.append([case.name, "–", "–", "–", why_a or why_b or "not run by one of them"])
            continue
        print(f"  {case.name}", file=sys.stderr, flush=True)
        if not args.quick:
            _util.wait_idle(max_wait=30)
        r = results[case.name] = paired(fa, fb, args.rounds, args.sample)
        lo, hi = r["middle_half"]
        rows.append([case.name, _util.fmt_time(r["first"]), _util.fmt_time(r["second"]),
                     f"{r['ratio']:.3f}", f"{lo:.2f} – {hi:.2f}"])
    env = _util.environment(threads, _util.limit_loaded_pools(threads))
    mode = {"fwd": "forward", "fb": "forward+backward"}[args.mode]
    print("\n".join(_util.header_lines(env)))
    print(f"\n# {args.systems[0]} / {args.systems[1]}, {mode}: {args.rounds} alternated rounds "
          f"of about {args.sample * 1e3:g} ms{'; --quick sizes' if args.quick else ''}\n")
    print(_util.markdown_table(["case", args.systems[0], args.systems[1], "ratio (median)",
                                "middle half of the rounds' ratios"], rows), flush=True)
    path = _util.output_path(args.json, "pair-quick.json" if args.quick else "pair.json")
    if path:
        _util.write_json(path, {"environment": env, "systems": args.systems,
                                "mode": args.mode, "rounds": args.rounds,
                                "sample": args.sample, "quick": args.quick,
                                "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
