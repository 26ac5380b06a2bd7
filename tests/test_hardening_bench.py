"""Issue 9, benchmark scripts: unknown names are refused, outputs go to benchmarks/results/,
a quick run is not graded against the full-size targets and does not wait for long, and
the ``bench`` extra installs the peers (torch pinned exactly)."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import _util  # noqa: E402

ENV = {"machine": "test", "python": "3", "einsum_ad": "0", "numpy": "2", "opt_einsum": "3",
       "blas": [], "threads": 1}


@pytest.mark.parametrize("argv, valid", [
    (["--only", "bogus"], "chain8, ring8, mps_overlap6"),
    (["--only", "chain8,bogus"], "attention_qkv, bilinear"),
    (["--only", ","], "no expression"),
])
def test_paths_only_bogus_exits_nonzero_listing_the_valid_names(argv, valid, capsys):
    """``paths.py --only bogus`` ran nothing and exited 0."""
    import paths

    with pytest.raises(SystemExit) as info:
        paths.main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--only" in err and valid in err


@pytest.mark.parametrize("argv, message", [
    (["--skip", "bogus"], "unknown system 'bogus'; choose among 'numpy (hand)'"),
    (["--skip", "torch,jaxx"], "unknown system 'jaxx'"),
    (["--skip", "einsum_ad"], "einsum_ad is the system measured"),
    (["--only", "bogus"], "unknown case(s) ['bogus']; choose among matmul4x4"),
])
def test_peers_skip_bogus_exits_nonzero_listing_the_valid_names(argv, message, capsys):
    """``peers.py --skip bogus`` was ignored silently."""
    import peers

    with pytest.raises(SystemExit) as info:
        peers.parse_args(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("text, names", [
    ("torch", {"torch"}),
    ("jax", {"jax.jit", "jax (eager)"}),
    ("optional", {"torch", "einsum_ad (torch)", "jax.jit", "jax (eager)", "autograd"}),
    ("einsum_ad (torch)", {"einsum_ad (torch)"}),
    ("np.einsum, opt_einsum", {"np.einsum(optimize=False)", "np.einsum(optimize=True)",
                               "opt_einsum"}),
    ("", set()),
])
def test_peers_skip_takes_names_and_shorthands(text, names):
    import _peer_systems

    assert _peer_systems.skip_names(text) == names


def _matmul_case():
    import _peer_cases

    return _peer_cases.Case("matmul", "ij,jk->ik", [np.ones((2, 2))] * 2, "simple")


RESULTS = {"matmul": {"einsum_ad": {"fwd": 2e-4, "fb": 5e-4},
                      "numpy (hand)": {"fwd": 1e-4, "fb": 4e-4}}}


def test_quick_run_does_not_grade_small_sizes_against_full_targets():
    """A --quick run printed "NO" (or "yes") for targets set for the full sizes."""
    import peers

    cases = [_matmul_case()]
    full = peers.targets(cases, RESULTS)
    assert [t["met"] for t in full] == [False]  # 2x hand-written NumPy: missed
    assert [t["met"] for t in peers.targets(cases, RESULTS, graded=False)] == [None]
    systems = dict.fromkeys(["einsum_ad", "numpy (hand)"])
    quick = peers.render(ENV, cases, systems, RESULTS, [], quick=True)
    assert "targets are graded only on full runs" in quick
    assert "| not graded |" in quick and "| NO |" not in quick
    assert "| NO |" in peers.render(ENV, cases, systems, RESULTS, [], quick=False)


def test_outputs_go_under_benchmarks_results_not_the_cwd(tmp_path, monkeypatch):
    """peers.json / paths.json (and the plots) were written to the current directory."""
    monkeypatch.chdir(tmp_path)
    path = _util.output_path(None, "peers-quick.json")
    assert Path(path).parent == ROOT / "benchmarks" / "results"
    assert os.path.isdir(Path(path).parent)
    assert _util.output_path("", "peers.json") is None  # '' : no file
    assert _util.output_path("mine.json", "peers.json") == "mine.json"
    assert list(tmp_path.iterdir()) == []


def test_write_json_says_where_the_file_went(tmp_path, capsys):
    out = tmp_path / "r.json"
    _util.write_json(str(out), {"a": 1})
    assert out.read_text().strip().startswith("{")
    assert f"wrote {out}" in capsys.readouterr().err


def test_quick_waits_stop_when_their_budget_is_spent(monkeypatch):
    """--quick slept before each of ~110 measurements (1 m 46 s, 13 s of it CPU). Its
    waits for idleness now come out of one small budget; once spent, none is even
    attempted (the load is not read)."""
    def no_snapshot():
        raise AssertionError("waited")
    monkeypatch.setattr(_util, "QUICK_WAIT_BUDGET", [0.0])
    monkeypatch.setattr(_util, "_cpu_snapshot", no_snapshot)
    assert _util.wait_idle(max_wait=60, quick=True) == 0.0
    with pytest.raises(AssertionError, match="waited"):
        _util.wait_idle(max_wait=60)  # a full run still waits


def test_quick_measure_times_a_slow_call_once_after_the_warm_up(monkeypatch):
    calls = []
    clock = iter([0.0, 0.6] + [9.9] * 10)  # the timed call after the warm-up: 0.6 s
    monkeypatch.setattr(_util.time, "perf_counter", lambda: next(clock))
    assert _util.measure(lambda: calls.append(1), quick=True) == pytest.approx(0.6)
    assert len(calls) == 2


def test_bench_extra_pins_torch_exactly():
    """There was no install command for the peers; any torch spec but an exact version
    pulls a multi-GB CUDA build on these machines."""
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    bench = extras["bench"]
    assert [d for d in bench if d.startswith("torch")] == ["torch==2.13.0"]
    assert {"jax", "jaxlib", "autograd", "threadpoolctl", "matplotlib"} <= set(bench)
    assert 'pip install -e ".[bench]"' in (ROOT / "README.md").read_text()


def test_benchmarks_measure_the_checkout_they_belong_to(tmp_path):
    """``python benchmarks/peers.py`` put only benchmarks/ on sys.path, so the einsum_ad it
    measured was whichever was installed (an editable install of another checkout)."""
    import subprocess

    code = ("import sys; sys.path.insert(0, sys.argv[1]); import _util, einsum_ad; "
            "print(einsum_ad.__file__)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "benchmarks")], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == ROOT / "einsum_ad" / "__init__.py"


def test_environment_reads_peer_versions_without_importing_them(tmp_path):
    """The header imported torch, jax and autograd to print their versions, even with
    ``--skip optional``: seconds of imports, and their objects made each of the ~110
    ``gc.collect()`` calls 0.25 s slower (half the CPU time of a quick run)."""
    import subprocess

    code = ("import sys; sys.path.insert(0, sys.argv[1]); import _util; "
            "env = _util.environment(1, []); "
            "print(sorted(m for m in ('torch', 'jax', 'autograd') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "benchmarks")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
