"""The lock-step benchmarks: benchmarks/side_by_side.py (two checkouts' einsum_ad in worker
processes on one core) and benchmarks/pair.py (two systems of peers.py in one process).

The figures themselves are a benchmark's business; these tests check that side_by_side.py
times the checkout it is pointed at (not this one), that both refuse bad arguments with exit
code 2, and that a checkout whose einsum_ad cannot be imported is reported, not waited for."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import pair  # noqa: E402
import side_by_side  # noqa: E402


@pytest.mark.parametrize("extra, message", [
    (["--rounds", "0"], "--rounds 0: must be at least 1"),
    (["--sample", "0"], "--sample 0.0: must be positive"),
    (["--threads", "0"], "--threads 0: must be at least 1"),
    (["--limit", "-1"], "--limit -1.0: must be positive"),
])
def test_bad_numbers_exit_2_naming_the_option(extra, message, capsys):
    with pytest.raises(SystemExit) as info:
        side_by_side.parse_args(["--against", str(ROOT)] + extra)
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_a_directory_without_einsum_ad_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        side_by_side.parse_args(["--against", str(tmp_path)])
    assert info.value.code == 2
    assert "no einsum_ad package in that directory" in capsys.readouterr().err


def _other_checkout(tmp_path):
    """A second checkout: this one's einsum_ad, reached through another directory."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "einsum_ad").symlink_to(ROOT / "einsum_ad", target_is_directory=True)
    return other


def test_quick_run_times_both_checkouts_and_writes_the_rounds(tmp_path, capsys):
    other = _other_checkout(tmp_path)
    out = tmp_path / "sbs.json"
    code = side_by_side.main(["--against", str(other), "--quick", "--only", "matmul4x4",
                              "--rounds", "2", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["other"]["einsum_ad"] == str(other)  # the other checkout's package
    assert report["this"]["einsum_ad"] == str(ROOT)
    assert set(report["results"]) == {"matmul4x4 fwd", "matmul4x4 fb"}
    for row in report["results"].values():
        assert len(row["ratios"]) == 2 and all(r > 0 for r in row["ratios"])
        assert row["here"] > 0 and row["there"] > 0 and row["calls_per_sample"] >= 1
    table = capsys.readouterr().out
    assert "| matmul4x4 | forward |" in table and "| matmul4x4 | fwd+bwd |" in table


def test_unknown_case_exits_2_listing_the_cases(tmp_path, capsys):
    code = side_by_side.main(["--against", str(_other_checkout(tmp_path)), "--quick",
                              "--only", "bogus", "--json", ""])
    err = capsys.readouterr().err
    assert code == 2 and "unknown case(s) ['bogus']" in err and "matmul4x4" in err


def test_a_checkout_that_cannot_import_is_an_error_not_a_hang(tmp_path, capsys):
    broken = tmp_path / "broken"
    (broken / "einsum_ad").mkdir(parents=True)
    (broken / "einsum_ad" / "__init__.py").write_text("raise ImportError('half-written')\n")
    code = side_by_side.main(["--against", str(broken), "--quick", "--json", ""])
    err = capsys.readouterr().err
    assert code == 2
    assert f"the worker for {broken} stopped" in err


@pytest.mark.parametrize("argv, message", [
    (["--systems", "torch"], "name two different systems"),
    (["--systems", "torch,torch"], "name two different systems"),
    (["--rounds", "0"], "--rounds 0: must be at least 1"),
    (["--sample", "-1"], "--sample -1.0: must be positive"),
    (["--mode", "both"], "invalid choice: 'both'"),
])
def test_pair_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        pair.parse_args(argv)
    assert info.value.code == 2 and message in capsys.readouterr().err


@pytest.fixture
def no_pinning(monkeypatch):
    """pair.main pins its process to N cores and caps the BLAS pools: not the test worker's."""
    monkeypatch.setattr(pair._util, "pin_threads", lambda n: 1)
    monkeypatch.setattr(pair._util, "limit_loaded_pools", lambda n: [])


def test_pair_unknown_system_or_case_exits_2_listing_the_valid_ones(no_pinning, capsys):
    assert pair.main(["--systems", "einsum_ad,bogus", "--quick", "--json", ""]) == 2
    assert "unknown system(s) ['bogus']; choose among 'einsum_ad'" in capsys.readouterr().err
    assert pair.main(["--systems", "einsum_ad,numpy (hand)", "--quick", "--only", "bogus",
                      "--json", ""]) == 2
    assert "unknown case(s) ['bogus']; choose among matmul4x4" in capsys.readouterr().err


def test_pair_quick_run_alternates_the_two_systems(no_pinning, tmp_path, capsys):
    out = tmp_path / "pair.json"
    code = pair.main(["--systems", "einsum_ad,numpy (hand)", "--quick", "--only",
                      "matmul4x4", "--rounds", "2", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert report["systems"] == ["einsum_ad", "numpy (hand)"]
    row = report["results"]["matmul4x4"]
    assert len(row["ratios"]) == 2 and row["first"] > 0 and row["second"] > 0
    assert "| matmul4x4 |" in capsys.readouterr().out


def test_pair_times_einsum_ad_under_jit_on_torch(no_pinning, tmp_path):
    """pair.py's extra system: einsum_ad's measured functions under ea.jit, on torch."""
    pytest.importorskip("torch")
    out = tmp_path / "pair.json"
    assert pair.main(["--systems", "einsum_ad jit (torch),torch", "--quick", "--only",
                      "matmul4x4", "--rounds", "2", "--json", str(out)]) == 0
    row = json.loads(out.read_text())["results"]["matmul4x4"]
    assert row["first"] > 0 and row["second"] > 0
