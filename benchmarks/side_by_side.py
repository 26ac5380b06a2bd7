"""einsum_ad of this checkout against einsum_ad of another, on ``peers.py``'s cases, in lock-step.

The question a change to the engine has to answer: is any case slower than before? On a
shared machine two runs of ``peers.py`` a minute apart cannot say: the CPU here switches
between speed states for seconds at a time (a 4x4 ``a @ b`` takes 0.9 us or 1.4 us
depending on when it is timed, in the same process), so two processes measured one after
the other differ by up to 1.5x whatever their code. This script starts one worker process
per checkout, both pinned to the same core, and times the two in alternation, a short
sample each (``--sample``, 50 ms), swapping which goes first every round. Each round's
ratio compares two samples taken a few tens of milliseconds apart, in the same state of the
machine; the figure reported is the median over the rounds, with the middle half of the
rounds' ratios beside it.

Run (from this checkout; the other one is any directory holding an ``einsum_ad`` package,
e.g. a worktree of the commit before a change: ``git worktree add --detach ../base REV``)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/side_by_side.py --against ../base [--threads 1] [--only trace,mlp]
        [--rounds 15] [--limit 1.05] [--json FILE] [--quick]

Prints a table of the medians per call and their ratio (this checkout / the other) for the
forward and the forward+backward of every case, and the cases whose ratio exceeds
``--limit``. The JSON goes to ``benchmarks/results/side_by_side.json`` (``--json ''``: none).
The timed code is ``peers.py``'s einsum_ad system, so the figures are the ones ``peers.py``
reports for einsum_ad.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import _util  # noqa: E402  (a worker then puts its checkout before this one: see _worker)

MARK = "@@side_by_side "  # a worker's replies; anything else it prints is passed through


# ---------------------------------------------------------------------- the worker


def _worker(tree: str, threads: int, quick: bool) -> int:
    # The other checkout's einsum_ad comes first; this checkout's benchmark modules second.
    # ROOT is appended so that _util does not put this checkout's einsum_ad before `tree`.
    sys.path.insert(0, tree)
    _util.pin_threads(threads)
    import numpy as np

    import einsum_ad

    where = os.path.dirname(os.path.dirname(os.path.abspath(einsum_ad.__file__)))
    if os.path.realpath(where) != os.path.realpath(tree):
        raise SystemExit(f"side_by_side worker: einsum_ad was imported from {where}, "
                         f"not from {tree}")
    import _peer_cases
    import _peer_systems

    _util.limit_loaded_pools(threads)
    system = _peer_systems.EinsumAD()
    fns = {}
    for case in _peer_cases.make_cases(quick, np.random.default_rng(0)):
        for mode in ("fwd", "fb"):
            fn, _ = system.make(case, mode)
            if fn is not None:
                fns[f"{case.name} {mode}"] = fn

    def reply(**kw):
        sys.stdout.write(MARK + json.dumps(kw) + "\n")
        sys.stdout.flush()

    reply(keys=list(fns), einsum_ad=where)
    for line in sys.stdin:
        msg = json.loads(line)
        if msg["op"] == "quit":
            break
        fn = fns[msg["key"]]
        if msg["op"] == "once":  # two warm-up calls, then one timed
            fn()
            fn()
            t0 = time.perf_counter()
            fn()
            reply(seconds=time.perf_counter() - t0)
        else:  # "sample": seconds per call over `number` calls
            reply(seconds=_util.sample_seconds(fn, msg["number"]))
    return 0


class Worker:
    """A worker process timing one checkout's einsum_ad; requests and replies are JSON lines."""

    def __init__(self, tree, threads, quick):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", tree,
               "--threads", str(threads)] + (["--quick"] if quick else [])
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the worker sets its own path
        self.tree = tree
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=HERE)
        hello = self._read()
        self.keys, self.einsum_ad = hello["keys"], hello["einsum_ad"]

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith(MARK):
                return json.loads(line[len(MARK):])
            sys.stderr.write(line)
        code = self.proc.wait()
        raise RuntimeError(f"the worker for {self.tree} stopped (exit code {code}) before "
                           "answering; its error is printed above")

    def ask(self, **msg):
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        return self._read()["seconds"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---------------------------------------------------------------------- the parent


def _commit(tree):
    try:
        out = subprocess.run(["git", "-C", tree, "log", "-1", "--format=%h %s"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()[:72] or None


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", required=True,
                    help="the other checkout: a directory holding an einsum_ad package")
    ap.add_argument("--only", default="", help="comma-separated cases of peers.py")
    ap.add_argument("--limit", type=float, default=1.05,
                    help="a median ratio above this is reported as slower (1.05)")
    _util.add_lockstep_args(ap, "checkout")
    ap.add_argument("--json", default=None,
                    help="write the figures here (default: "
                         "benchmarks/results/side_by_side.json; '' : no)")
    args = ap.parse_args(argv)
    tree = os.path.abspath(args.against)
    if not os.path.isfile(os.path.join(tree, "einsum_ad", "__init__.py")):
        ap.error(f"--against {args.against}: no einsum_ad package in that directory")
    args.against = tree
    _util.check_lockstep_args(ap, args)
    if args.limit <= 0:
        ap.error(f"--limit {args.limit}: must be positive")
    return args


def compare(here: Worker, there: Worker, keys, rounds, sample, wait=None):
    """Per key: medians of both and of the rounds' ratios (here / there), and those ratios."""
    out = {}
    for key in keys:
        if wait:
            wait()
        print(f"  {key}", file=sys.stderr, flush=True)
        once = max(here.ask(op="once", key=key), there.ask(op="once", key=key), 1e-7)
        number = max(1, int(sample / once))
        a, b = [], []
        for r in range(rounds):
            pair = (here, there) if r % 2 == 0 else (there, here)
            got = {w: w.ask(op="sample", key=key, number=number) for w in pair}
            a.append(got[here])
            b.append(got[there])
        r = _util.ratio_summary(a, b)
        out[key] = {"here": r.pop("first"), "there": r.pop("second"), **r,
                    "calls_per_sample": number}
    return out


def render(results, args, here, there) -> str:
    lines = [f"# einsum_ad side by side: this checkout / {args.against}", ""]
    lines.append(f"- this checkout: {here.einsum_ad} ({_commit(ROOT) or 'no git'})")
    lines.append(f"- the other: {there.einsum_ad} ({_commit(args.against) or 'no git'})")
    lines.append(f"- {args.rounds} alternated rounds per row, samples of about "
                 f"{args.sample * 1e3:g} ms, {args.threads} thread(s), both workers on the "
                 f"same core{'; --quick sizes' if args.quick else ''}")
    lines.append("")
    rows = []
    for key, r in results.items():
        case, mode = key.rsplit(" ", 1)
        lo, hi = r["middle_half"]
        rows.append([case, {"fwd": "forward", "fb": "fwd+bwd"}[mode],
                     _util.fmt_time(r["here"]), _util.fmt_time(r["there"]),
                     f"{r['ratio']:.3f}", f"{lo:.2f} – {hi:.2f}",
                     "yes" if r["ratio"] <= args.limit else "**no**"])
    lines.append(_util.markdown_table(
        ["case", "mode", "this checkout", "the other", "ratio (median)",
         "middle half of the rounds' ratios", f"≤ {args.limit:g}"], rows))
    slower = [k for k, r in results.items() if r["ratio"] > args.limit]
    lines.append("")
    lines.append(f"Slower than {args.limit:g}x: " + (", ".join(slower) if slower else "none"))
    return "\n".join(lines)


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["--worker"]:
        ap = argparse.ArgumentParser()
        ap.add_argument("--worker")
        ap.add_argument("--threads", type=int, default=1)
        ap.add_argument("--quick", action="store_true")
        w = ap.parse_args(argv)
        return _worker(os.path.abspath(w.worker), w.threads, w.quick)
    args = parse_args(argv)
    workers = []
    try:
        here = Worker(ROOT, args.threads, args.quick)
        workers.append(here)
        there = Worker(args.against, args.threads, args.quick)
        workers.append(there)
        keys = [k for k in here.keys if k in set(there.keys)]
        if args.only:
            wanted = set(filter(None, (s.strip() for s in args.only.split(","))))
            known = {k.rsplit(" ", 1)[0] for k in keys}
            unknown = wanted - known
            if unknown or not wanted:
                what = f"unknown case(s) {sorted(unknown)}" if unknown else "no case"
                print(f"side_by_side.py: error: --only: {what}; choose among "
                      f"{', '.join(sorted(known))}", file=sys.stderr)
                return 2
            keys = [k for k in keys if k.rsplit(" ", 1)[0] in wanted]
        wait = None if args.quick else (lambda: _util.wait_idle(max_wait=30))
        results = compare(here, there, keys, args.rounds, args.sample, wait)
    except RuntimeError as exc:  # a worker that could not start or died
        print(f"side_by_side.py: error: {exc}", file=sys.stderr)
        return 2
    finally:
        for w in workers:
            w.close()
    print(render(results, args, here, there), flush=True)
    path = _util.output_path(args.json, "side_by_side-quick.json" if args.quick
                             else "side_by_side.json")
    if path:
        _util.write_json(path, {"this": {"einsum_ad": here.einsum_ad, "commit": _commit(ROOT)},
                                "other": {"einsum_ad": there.einsum_ad,
                                          "commit": _commit(args.against)},
                                "rounds": args.rounds, "sample": args.sample,
                                "threads": args.threads, "quick": args.quick,
                                "limit": args.limit, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
