"""Core overhead and backward cost: the figures the core issue reports.

Prints a markdown table of medians:

* forward+backward of a 4x4 matmul through ``ea.vjp``, next to plain ``numpy.einsum`` and
  ``numpy.matmul`` forward calls (the per-call floor);
* forward, and forward+backward, of a chain of six 256x256 matrices, and the ratio
  backward / forward.

Run: ``python benchmarks/core.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _util  # noqa: E402  (the shared timer; also puts this checkout first on sys.path)
import numpy as np  # noqa: E402

import einsum_ad as ea  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer, shorter repetitions")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = {}

    a, b = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    ct = np.ones((4, 4))

    def small_vjp():
        out, f_vjp = ea.vjp(lambda a, b: ea.einsum("ij,jk->ik", a, b), a, b)
        return f_vjp(ct)

    def timed(fn):
        return _util.measure(fn, quick=args.quick)

    rows["4x4 matmul fwd+bwd, ea.vjp"] = timed(small_vjp)
    rows["4x4 matmul fwd, numpy.einsum"] = timed(lambda: np.einsum("ij,jk->ik", a, b))
    rows["4x4 matmul fwd, numpy.matmul"] = timed(lambda: a @ b)
    rows["4x4 matmul fwd, ea.einsum (plain arrays)"] = timed(lambda: ea.einsum("ij,jk->ik", a, b))

    mats = [rng.standard_normal((256, 256)) / 16 for _ in range(6)]
    spec = "ab,bc,cd,de,ef,fg->ag"
    ctc = np.ones((256, 256))
    fwd = timed(lambda: ea.einsum(spec, *mats))

    def chain_vjp():
        out, f_vjp = ea.vjp(lambda *m: ea.einsum(spec, *m), *mats)
        return f_vjp(ctc)

    both = timed(chain_vjp)
    rows["6-chain 256^3 fwd"] = fwd
    rows["6-chain 256^3 fwd+bwd (all 6 cotangents)"] = both

    print(f"# einsum_ad core benchmark (python {platform.python_version()}, numpy "
          f"{np.__version__}, medians{' (quick)' if args.quick else ''})\n")
    print("| case | median |")
    print("|---|---|")
    for k, v in rows.items():
        unit = f"{v * 1e6:.1f} µs" if v < 1e-3 else f"{v * 1e3:.2f} ms"
        print(f"| {k} | {unit} |")
    ratio_small = rows["4x4 matmul fwd+bwd, ea.vjp"] / rows["4x4 matmul fwd, numpy.einsum"]
    bwd_over_fwd = (both - fwd) / fwd
    print(f"\n4x4 fwd+bwd (ea.vjp) / numpy.einsum fwd: {ratio_small:.1f}x")
    print(f"6-chain backward / forward: {bwd_over_fwd:.2f} (fwd+bwd / fwd: {both / fwd:.2f})")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"seconds": rows, "small_ratio": ratio_small,
                       "chain_bwd_over_fwd": bwd_over_fwd}, fh, indent=2)


if __name__ == "__main__":
    main()
