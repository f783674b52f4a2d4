"""What `verify` leaves for a user: streamed verdicts, a tidy table pandas reads in one call, help text."""

import json

import pytest

from convsim.cli import TABLE_FIELDS, main


def test_jsonl_streams_one_object_per_claim_and_the_table_reads_in_one_call(capsys, tmp_path):
    pd = pytest.importorskip("pandas")
    code = main(["verify", "gd-linear", "gd-linear-neg", "--quick", "--out", str(tmp_path), "--format", "jsonl",
                 "--no-figures"])
    lines = capsys.readouterr().out.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert code == 0 and [r["id"] for r in records] == ["gd-linear", "gd-linear-neg"]
    assert all(set(TABLE_FIELDS) <= set(r) for r in records) and all(r["figure"] is None for r in records)
    table = pd.read_csv(tmp_path / "verdicts.csv")
    assert list(table.columns) == list(TABLE_FIELDS) and set(table["id"]) == {"gd-linear", "gd-linear-neg"}
    assert table["run_files"].str.endswith(".nc").all() and not (tmp_path / "figures").exists()


def test_text_lines_align_and_unknown_ids_get_suggestions(capsys, tmp_path):
    main(["verify", "gd-linear", "gd-linear-neg", "--quick", "--out", str(tmp_path), "--no-figures"])
    lines = capsys.readouterr().out.splitlines()[:2]
    assert lines[0].index("consistent") == lines[1].index("violated")
    assert main(["verify", "gd-lineer", "--out", str(tmp_path)]) == 2
    assert "did you mean gd-linear" in capsys.readouterr().err


def test_help_shows_defaults_exit_codes_and_the_environment(capsys):
    assert main(["verify", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: convsim-results)" in out and "exit codes" in out and "$CONVSIM_EXPERIMENTS" in out


def test_concurrent_runs_into_one_folder_keep_every_record(tmp_path):
    import subprocess
    import sys

    ids = ["gd-linear", "gd-linear-neg", "sgd-decreasing", "sgd-decreasing-neg"]
    procs = [subprocess.Popen([sys.executable, "-m", "convsim", "verify", i, "--quick", "--no-figures", "--out",
                               str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i in ids]
    assert all(p.wait(timeout=300) == 0 for p in procs)
    stored = json.loads((tmp_path / "verdicts.json").read_text())
    assert {f"{i}@quick" for i in ids} <= set(stored)


def test_chunk_size_from_the_cli_leaves_the_verdict_unchanged(capsys, tmp_path):
    base = ["verify", "sgd-decreasing", "--quick", "--no-figures", "--format", "json"]
    main(base + ["--out", str(tmp_path / "a")])
    a = json.loads(capsys.readouterr().out)[0]
    main(base + ["--out", str(tmp_path / "b"), "--chunk-size", "64"])
    b = json.loads(capsys.readouterr().out)[0]
    assert a["evidence"] == b["evidence"]


def test_the_text_line_says_how_many_replicas_were_excluded():
    from convsim.cli import _verdict_line

    r = {"id": "x", "verdict": "consistent", "expected": "consistent", "as_expected": True, "seconds": 1.0,
         "negative_of": None, "loose": False, "far_control": False, "tightness": None, "error": None,
         "evidence": {"reason": "fine", "diverged": 3, "replicas": 256}}
    assert "3 of 256 replicas diverged (excluded)" in _verdict_line(r, 4)
