"""The ``einsum-ad`` command line: ``train`` the example models, ``explain`` a contraction.

Run ``einsum-ad --help`` (or ``python -m einsum_ad --help``) for the subcommands.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import re
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
                        "given seed repeats a run on the same machine (the BLAS kernel, chosen "
                        "per CPU, can move the last digits elsewhere) (default: 0)")
    p.add_argument("--plot", metavar="FILE", default=None,
                   help="save the per-epoch training loss and accuracy as an image "
                        "(matplotlib; the format from the extension: .png, .pdf, .svg, ...)")
    p.add_argument("--metrics", metavar="FILE", default=None,
                   help="write the figures as JSON: test_accuracy (a fraction), train_accuracy "
                        "and train_loss of the trained parameters, train_seconds, and the "
                        "per-epoch running means epoch_losses and epoch_accuracies")
    p.add_argument("--save", metavar="FILE", default=None,
                   help="save the trained parameters to an .npz file "
                        "(einsum_ad.data.load_params reads it back)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar; print only the summary line")
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
    parser.add_argument("--version", action="version", version=f"einsum-ad {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="{train,explain}", parser_class=_Parser)
    sub.required = True
    _add_train(sub)
    first = next((a for a in argv if not a.startswith("-")), None)
    _add_explain(sub, wanted=first == "explain")
    return parser


def _version() -> str:
    # the version of the code that runs (not the installed distribution's metadata, which
    # may describe another checkout)
    from einsum_ad import __version__

    return __version__


def _check_output(option, path):
    """Refuse before training an output file that could not be written after it.

    The file is really opened (for appending, so an existing file is left as it is, and
    removed again if this created it): ``os.access`` answers yes to root for a read-only
    file system or ``/proc``, and says nothing of a full disk's directory entries.
    """
    where = f"einsum-ad train: error: --{option} {path}"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CommandError(f"{where}: the directory {folder} does not exist")
    if os.path.isdir(path):
        raise CommandError(f"{where}: is a directory; give a file name")
    if option == "plot":
        from einsum_ad.examples.training import PLOT_FORMATS

        ext = os.path.splitext(path)[1][1:].lower()
        if ext not in PLOT_FORMATS:
            what = f".{ext} is not an image format matplotlib writes" if ext else \
                "the file name needs an extension, which gives the image format"
            raise CommandError(f"{where}: {what}; use one of "
                               f"{', '.join('.' + f for f in PLOT_FORMATS)}")
    if option == "save" and not path.endswith(".npz"):
        path += ".npz"  # numpy adds the suffix: that is the file written
    existed = os.path.exists(path)
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise CommandError(f"{where}: cannot be written ({exc.strerror or exc})") from None
    if not existed:
        try:
            os.remove(path)
        except OSError:
            pass


def _train(args) -> int:
    # output files are checked before training, not found unwritable after it
    for option in ("plot", "metrics", "save"):
        path = getattr(args, option)
        if path:
            _check_output(option, path)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        raise CommandError("einsum-ad train: error: --plot needs matplotlib: "
                           "pip install -e '.[examples]'")
    module = importlib.import_module(TASKS[args.task][0])
    from einsum_ad.examples.training import OutputError

    try:
        module.run(epochs=args.epochs, seed=args.seed, plot=args.plot, metrics=args.metrics,
                   save=args.save, progress=not args.quiet)
    except OutputError as exc:  # after training: the summary is printed, the others written
        for option, path, reason in exc.failures:
            print(f"einsum-ad train: error: --{option} {path}: could not be written after "
                  f"training ({reason})", file=sys.stderr)
        return 1
    return 0


# a shape given on the command line: sizes separated by commas ("8,256,64", "-3,4")
_SHAPE = re.compile(r"\(?\s*-?\d+(\s*,\s*-?\d+)*\s*,?\s*\)?")
_EXPLAIN_VALUE_OPTIONS = ("--optimize", "--dtype")


def _negative_shape(argv):
    """For ``explain``: the message for the first shape with a negative size, or None.

    A shape starting with one (``-3,4``) reads as an option to argparse, which would report
    an unrecognised argument; the problem is the size, so it is checked first.
    """
    rest = argv[argv.index("explain") + 1:]
    positionals = 0  # the subscripts, then one shape per operand
    skip = False
    for tok in rest:
        if skip:
            skip = False
            continue
        if tok in _EXPLAIN_VALUE_OPTIONS:
            skip = True
            continue
        is_shape = positionals > 0 and _SHAPE.fullmatch(tok)
        if is_shape and "-" in tok:
            sizes = tuple(int(d) for d in tok.strip("() ").split(",") if d.strip())
            return (f"einsum-ad explain: error: operand {positionals - 1} has a negative "
                    f"dimension in shape {sizes}")
        if is_shape or tok == "-" or not tok.startswith("-"):
            positionals += 1
    return None


def _silence_stdout():
    """After a broken pipe (``einsum-ad explain ... | head``): send what Python still has
    to write to /dev/null, so that its exit does not print a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a file (tests)
        pass


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0 on success)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if next((a for a in argv if not a.startswith("-")), None) == "explain":
            message = _negative_shape(argv)
            if message:
                raise CommandError(message)
        args = build_parser(argv).parse_args(argv)
        if args.command == "train":
            return _train(args)
        try:
            code = int(args.run(args) or 0)
        except (ValueError, TypeError) as exc:  # a bad expression or operand given to explain
            print(f"einsum-ad explain: error: {exc}", file=sys.stderr)
            return 2
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except BrokenPipeError:
        # the reader stopped reading (``| head``): not an error of ours, and no traceback;
        # 141 = 128 + SIGPIPE, the status of a command that the shell's pipe stopped
        _silence_stdout()
        return 141
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
