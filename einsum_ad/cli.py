"""The ``einsum-ad`` command line: ``train`` the example models, ``explain`` a contraction.

Run ``einsum-ad --help`` (or ``python -m einsum_ad --help``) for the subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

__all__ = ["main", "build_parser"]

TASKS = {
    "digits": ("einsum_ad.examples.digits",
               "an MLP on scikit-learn's bundled 8x8 handwritten digits (>= 97% test accuracy)"),
    "transformer": ("einsum_ad.examples.transformer",
                    "a small transformer that learns to reverse digit sequences"),
    "mps": ("einsum_ad.examples.mps_digits",
            "a matrix-product-state (tensor-train) classifier on the digits"),
}


class CommandError(Exception):
    """A problem with the command line, reported as one line without a traceback."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``einsum-ad: error: ...``) and exit code 2."""

    def error(self, message):
        raise CommandError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") \
            from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def _add_train(sub):
    tasks = "\n".join(f"  {name:12s} {help_}" for name, (_, help_) in TASKS.items())
    p = sub.add_parser(
        "train", help="train one of the example models and report its held-out accuracy",
        description="Train an example model written as einsum expressions; print a progress "
                    "bar (stderr) and a one-line summary (stdout).\n\ntasks:\n" + tasks,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=sorted(TASKS), help="which model to train (see above)")
    p.add_argument("--epochs", type=_positive_int, default=None, metavar="N",
                   help="number of passes over the training data (default: the task's own, "
                        "enough to reach its accuracy target)")
    p.add_argument("--seed", type=_seed, default=0, metavar="S",
                   help="seed of the initialisation, the shuffling and the synthetic data; a "
                        "given seed gives the same run (default: 0)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="save the per-epoch training loss and accuracy as a PNG (matplotlib)")
    p.add_argument("--metrics", metavar="FILE", default=None,
                   help="write the final figures as JSON, including test_accuracy (a "
                        "fraction) and train_seconds")
    p.add_argument("--save", metavar="FILE", default=None,
                   help="save the trained parameters to an .npz file "
                        "(einsum_ad.data.load_params reads it back)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar; print only the summary line")
    p.add_argument("--no-jit", action="store_true",
                   help="run the training steps eagerly instead of through ea.jit")
    return p


def _add_explain(sub, wanted):
    p = sub.add_parser("explain", help="show how einsum_ad contracts an einsum expression",
                       description="Show how einsum_ad contracts and differentiates an einsum "
                                   "expression on operands of the given shapes: its steps, "
                                   "their kernels and FLOPs, forward and backward.",
                       add_help=wanted)
    if wanted:
        try:
            explain = importlib.import_module("einsum_ad.explain")
        except ImportError:
            raise CommandError("einsum-ad explain: not available in this version "
                               "(the module einsum_ad.explain is missing)") from None
        explain.add_arguments(p)
        p.set_defaults(run=explain.run)
    return p


def build_parser(argv=()) -> argparse.ArgumentParser:
    """The argument parser. ``explain``'s own options are loaded only when it is invoked."""
    parser = _Parser(prog="einsum-ad",
                     description="Train models written as einsum expressions, or explain how "
                                 "an einsum expression is contracted and differentiated.")
    sub = parser.add_subparsers(dest="command", metavar="{train,explain}", parser_class=_Parser)
    sub.required = True
    _add_train(sub)
    first = next((a for a in argv if not a.startswith("-")), None)
    _add_explain(sub, wanted=first == "explain")
    return parser


def _train(args) -> int:
    # output files are checked before training, not found unwritable after it
    for option in ("plot", "metrics", "save"):
        path = getattr(args, option)
        if not path:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise CommandError(f"einsum-ad train: error: --{option} {path}: the directory "
                               f"{folder} does not exist")
        if os.path.isdir(path):
            raise CommandError(f"einsum-ad train: error: --{option} {path}: is a directory; "
                               "give a file name")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CommandError(f"einsum-ad train: error: --{option} {path}: the directory "
                               f"{folder} is not writable")
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise CommandError("einsum-ad train: error: --plot needs matplotlib: "
                           "pip install -e '.[examples]'")
    module = importlib.import_module(TASKS[args.task][0])
    from einsum_ad.examples.training import jit_steps

    with jit_steps(not args.no_jit):
        module.run(epochs=args.epochs, seed=args.seed, plot=args.plot, metrics=args.metrics,
                   save=args.save, progress=not args.quiet)
    return 0


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 on success)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(argv).parse_args(argv)
        if args.command == "train":
            return _train(args)
        try:
            return int(args.run(args) or 0)
        except (ValueError, TypeError) as exc:  # a bad expression or operand given to explain
            print(f"einsum-ad explain: error: {exc}", file=sys.stderr)
            return 2
    except CommandError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (OSError, RuntimeError, FloatingPointError) as exc:
        print(f"einsum-ad: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("einsum-ad: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
