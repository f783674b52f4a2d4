"""`--jobs N` runs claims in worker processes with verdicts, evidence and stored runs identical to a serial run;
a worker that dies is reported and its claims run again."""

import json

import numpy as np
import pytest

from convsim.cli import main
from convsim.store import load_trace

ONE_PER_FAMILY = ["gd-linear", "gd-linear-neg", "stationary-cov", "ucb-log", "aid-itd-cg", "oomd-sea"]


def _records(capsys, argv):
    code = main(argv + ["--format", "json", "--no-figures"])
    return code, {r["id"]: r for r in json.loads(capsys.readouterr().out)}


@pytest.mark.slow
def test_jobs_2_gives_the_serial_verdicts_evidence_and_runs(capsys, tmp_path):
    serial_code, serial = _records(capsys, ["verify", *ONE_PER_FAMILY, "--quick", "--out", str(tmp_path / "a")])
    par_code, par = _records(capsys, ["verify", *ONE_PER_FAMILY, "--quick", "--out", str(tmp_path / "b"),
                                      "--jobs", "2"])
    assert serial_code == par_code and set(serial) == set(par) == set(ONE_PER_FAMILY)
    for i in ONE_PER_FAMILY:
        assert serial[i]["verdict"] == par[i]["verdict"] and serial[i]["evidence"] == par[i]["evidence"], i
    a = sorted(p.name for p in (tmp_path / "a" / "runs").glob("*.nc"))
    b = sorted(p.name for p in (tmp_path / "b" / "runs").glob("*.nc"))
    assert a == b  # the same runs under the same keys
    for name in a:  # and the same float64 arrays bit for bit (the metadata holds wall times)
        ta, tb = (load_trace(tmp_path / d / "runs" / name) for d in ("a", "b"))
        assert np.array_equal(ta.diverged_at, tb.diverged_at)
        for m in ta.metrics:
            assert np.array_equal(ta.metrics[m], tb.metrics[m], equal_nan=True)


def test_a_dead_worker_is_reported_and_its_claims_rerun(capsys, tmp_path, monkeypatch):
    from convsim import cli

    marker = tmp_path / "died-once"
    monkeypatch.setenv("CONVSIM_TEST_DIE_ONCE", str(marker))
    code = main(["verify", "gd-linear", "gd-linear-neg", "--quick", "--out", str(tmp_path), "--jobs", "2",
                 "--no-figures", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0 and "a worker process died" in err and marker.exists()
    assert {r["id"] for r in json.loads(out)} == {"gd-linear", "gd-linear-neg"}
    assert cli._groups is not None
