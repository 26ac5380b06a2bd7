"""Issue 9, command line: outputs are checked before training and a failed write after it
keeps the summary; the figures are those of the trained parameters; --version; explain's
negative sizes and broken pipes."""

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import einsum_ad
from einsum_ad import cli
from einsum_ad.examples import training

ROOT = Path(__file__).resolve().parents[1]


def _main(args):
    """``cli.main(args)`` in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if a task starts training."""
    from einsum_ad.examples import digits

    def trained(**kwargs):
        raise AssertionError("training started")
    monkeypatch.setattr(digits, "run", trained)


@pytest.mark.parametrize("name, message", [
    ("out.txt", ".txt is not an image format matplotlib writes; use one of .png"),
    ("out", "the file name needs an extension"),
    ("out.json", ".json is not an image format"),
])
def test_plot_of_an_unknown_format_fails_before_training(tmp_path, no_training, name,
                                                         message):
    """``--plot out.txt`` trained fully, then died in matplotlib with a traceback and wrote
    neither --metrics nor --save."""
    path = tmp_path / name
    code, _, err = _main(["train", "digits", "--plot", path])
    assert code == 2 and err.count("\n") == 1, err
    assert f"--plot {path}: {message}" in err
    assert not path.exists()


@pytest.mark.parametrize("name", ["loss.png", "loss.PDF", "curves.svg"])
def test_plot_formats_matplotlib_writes_pass_the_check(tmp_path, name):
    cli._check_output("plot", str(tmp_path / name))
    assert not (tmp_path / name).exists()  # the probe leaves no file behind


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_unwritable_output_fails_before_training_even_for_root(no_training):
    """The check was ``os.access(folder, W_OK)``, which answers yes to root for /proc (or
    a read-only file system): the run trained, then lost its outputs. The file is really
    opened now."""
    code, _, err = _main(["train", "digits", "--metrics", "/proc/einsum_ad_metrics.json"])
    assert code == 2 and err.count("\n") == 1, err
    assert "--metrics /proc/einsum_ad_metrics.json: cannot be written" in err


def test_existing_output_file_is_left_as_it_is_by_the_check(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("old")
    cli._check_output("metrics", str(path))
    assert path.read_text() == "old"


def _result():
    return training.RunResult("toy", 0, 1, 0.5, 0.1, 0.75, 0.25, 10, 4, 8, [0.3], [0.7])


@pytest.mark.parametrize("option", ["metrics", "save", "plot"])
def test_finish_prints_the_summary_before_a_failed_write_and_names_option_and_path(
        tmp_path, capsys, option):
    """A write failing after training raised before the summary was printed, and the
    message named neither the option nor the path."""
    pytest.importorskip("matplotlib") if option == "plot" else None
    missing = tmp_path / "no" / ("out.png" if option == "plot" else "out")
    good = tmp_path / "m.json"
    kwargs = {"metrics": good, option: missing}
    with pytest.raises(training.OutputError) as info:
        training.finish(_result(), {"w": np.ones(2)}, **kwargs)
    assert "toy: test accuracy 50.00%" in capsys.readouterr().out
    assert info.value.failures == [(option, str(missing), "No such file or directory")]
    if option != "metrics":
        assert json.loads(good.read_text())["train_accuracy"] == 0.75  # the others written


def test_write_failing_after_training_keeps_the_summary(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")

    def refuse(path, params):
        raise PermissionError(13, "Permission denied", str(path))
    monkeypatch.setattr(training, "save_params", refuse)
    saved, metrics = tmp_path / "p.npz", tmp_path / "m.json"
    code, out, err = _main(["train", "digits", "--epochs", "1", "--quiet", "--save", saved,
                            "--metrics", metrics])
    assert code == 1
    assert out.startswith("digits MLP: test accuracy") and out.count("\n") == 1
    assert err == (f"einsum-ad train: error: --save {saved}: could not be written after "
                   "training (Permission denied)\n")
    assert json.loads(metrics.read_text())["epochs"] == 1


def test_train_figures_are_those_of_the_trained_parameters(tmp_path):
    """"train accuracy" and "final loss" were running means over the last epoch while the
    parameters changed (one epoch of the transformer: 78% "train accuracy" for parameters
    scoring 100%). They are now the trained parameters' figures on the whole training set,
    and the running means are labelled as such (epoch_losses, epoch_accuracies)."""
    pytest.importorskip("sklearn")
    from einsum_ad import nn
    from einsum_ad.data import load_params

    saved, metrics = tmp_path / "p.npz", tmp_path / "m.json"
    code, out, _ = _main(["train", "digits", "--epochs", "1", "--seed", "2", "--quiet",
                          "--save", saved, "--metrics", metrics])
    assert code == 0
    figures = json.loads(metrics.read_text())
    assert "final_loss" not in figures and len(figures["epoch_accuracies"]) == 1
    params = load_params(saved)
    x_train, _, y_train, _ = training.load_digits_split()
    logits = nn.MLP([64, 256, 10])(params, x_train)
    assert figures["train_accuracy"] == pytest.approx(nn.accuracy(logits, y_train), abs=1e-12)
    assert figures["train_loss"] == pytest.approx(
        float(nn.softmax_cross_entropy(logits, y_train)), rel=1e-9)
    assert figures["train_examples"] == len(y_train)
    assert (f"trained parameters on the training set: accuracy "
            f"{100 * figures['train_accuracy']:.2f}%") in out


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"einsum-ad {einsum_ad.__version__}\n"


@pytest.mark.parametrize("args, message", [
    (["ij,jk->ik", "2,-3", "-3,4"], "operand 0 has a negative dimension in shape (2, -3)"),
    (["ij,jk->ik", "2,3", "-3,4"], "operand 1 has a negative dimension in shape (-3, 4)"),
    (["ij,jk->ik", "--optimize", "greedy", "2,3", "-3,-4"],
     "operand 1 has a negative dimension in shape (-3, -4)"),
    (["i->", "-1"], "operand 0 has a negative dimension in shape (-1,)"),
    (["ij,jk->ik", "2,3", "4,5"], "size mismatch"),
])
def test_explain_reports_a_negative_size_not_an_unknown_option(args, message):
    """``explain "ij,jk->ik" 2,-3 -3,4``: argparse read -3,4 as an option and said
    "unrecognized arguments"."""
    code, _, err = _main(["explain", *args])
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("einsum-ad explain: error: ") and message in err
    assert "explain: explain:" not in err


def test_explain_into_a_closed_pipe_ends_without_a_traceback():
    """``einsum-ad explain ... | head`` ended in a BrokenPipeError (a traceback, or an
    error line)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "einsum_ad", "explain", "ij,jk->ik", "2,3",
                             "3,4"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
                            env=env)
    proc.stdout.close()  # the reader is gone before the report is written
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 141, err
    assert err == b""


def test_broken_pipe_in_process_returns_141(monkeypatch):
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert cli.main(["explain", "ij,jk->ik", "2,3", "3,4"]) == 141
