"""The ``einsum-ad`` command line through a subprocess, and the example runs' determinism."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from einsum_ad import cli
from einsum_ad.data import load_params

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "einsum_ad", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT, env=env)


def test_help_explains_every_option():
    top = _run("--help")
    assert top.returncode == 0 and "train" in top.stdout and "explain" in top.stdout
    train = _run("train", "--help")
    assert train.returncode == 0
    for word in ("--epochs", "--seed", "--plot", "--metrics", "test_accuracy",
                 "train_seconds", "digits", "transformer", "mps"):
        assert word in train.stdout, word


@pytest.mark.parametrize("args, message", [
    (("train", "digit"), "invalid choice: 'digit'"),
    (("train", "digits", "--epochs", "0"), "--epochs: expected a positive integer, got 0"),
    (("train", "digits", "--seed", "minus"), "--seed: expected a non-negative integer"),
    (("train", "digits", "--learning-rate", "1"), "unrecognized arguments"),
    (("train", "digits", "--metrics", "/no/such/dir/m.json"), "does not exist"),
    ((), "required"),
])
def test_bad_arguments_give_one_line_and_a_nonzero_exit(args, message):
    res = cli_in_process(args)
    assert res[0] == 2
    assert message in res[1] and res[1].count("\n") == 1, res[1]


def cli_in_process(args):
    """Run ``cli.main`` in this process (the parser is the same as the subprocess's)."""
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(list(args))
    return code, err.getvalue()


def test_bad_argument_through_a_subprocess_has_no_traceback():
    res = _run("train", "digits", "--epochs", "-3")
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "Traceback" not in res.stderr
    assert "--epochs" in res.stderr


def test_explain_is_wired_or_reports_one_line():
    res = _run("explain", "--help")
    try:
        import einsum_ad.explain  # noqa: F401
    except ImportError:
        assert res.returncode == 2 and res.stderr.count("\n") == 1
        assert "einsum_ad.explain is missing" in res.stderr
    else:
        assert res.returncode == 0 and "usage: einsum-ad explain" in res.stdout
        code, err = cli_in_process(("explain", "bi,oi->bo", "3,4", "2,5"))
        assert code == 2 and "size mismatch" in err and err.count("\n") == 1, err
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(["explain", "bi,oi->bo", "3,4", "2,4"]) == 0
        assert "bi,oi->bo" in out.getvalue()


def test_a_tiny_digits_run_writes_metrics_plot_and_params(tmp_path):
    pytest.importorskip("sklearn")
    metrics, plot, saved = tmp_path / "m.json", tmp_path / "loss.png", tmp_path / "p.npz"
    res = _run("train", "digits", "--epochs", "2", "--seed", "3", "--metrics", str(metrics),
               "--plot", str(plot), "--save", str(saved))
    assert res.returncode == 0, res.stderr
    figures = json.loads(metrics.read_text())
    assert 0.8 < figures["test_accuracy"] <= 1.0
    assert figures["train_seconds"] > 0 and figures["epochs"] == 2 and figures["seed"] == 3
    losses = figures["epoch_losses"]
    assert len(losses) == 2 and losses[1] < losses[0]
    assert 0.8 < figures["train_accuracy"] <= 1.0 and figures["train_loss"] < losses[0]
    assert "test accuracy" in res.stdout and res.stdout.count("\n") == 1  # the summary line
    assert "epoch" in res.stderr  # the progress bar
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    params = load_params(saved)
    assert [p["W"].shape for p in params] == [(256, 64), (10, 256)]


def test_runs_are_deterministic_per_seed():
    pytest.importorskip("sklearn")
    from einsum_ad.examples import digits

    runs = [digits.run(epochs=1, seed=s, progress=False) for s in (5, 5, 6)]
    assert runs[0].epoch_losses == runs[1].epoch_losses
    assert runs[0].test_accuracy == runs[1].test_accuracy
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].epoch_losses != runs[2].epoch_losses


def test_transformer_data_and_model_and_mps_features():
    from einsum_ad.examples import transformer

    x_train, y_train, x_test, y_test = transformer.make_data(0, train_size=50, test_size=20)
    np.testing.assert_array_equal(y_train, x_train[:, ::-1])
    assert not {tuple(r) for r in x_test} & {tuple(r) for r in x_train}
    model = transformer.Reverser(features=8, num_heads=2, num_layers=1)
    assert model(model.init(0), x_test).shape == (20, transformer.LENGTH, transformer.VOCAB)
    from einsum_ad.examples import mps_digits

    phi = mps_digits.features(np.array([[0.0, 0.5]]))
    np.testing.assert_array_equal(phi, [[[1.0, 0.0], [1.0, 0.5]]])
