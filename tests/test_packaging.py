"""A regular (non-editable) install ships the catalogue; claim plugins register by entry point;
claim files load under path-unique names."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import convsim as cs
from convsim.cli import main

REPO = Path(__file__).resolve().parent.parent


def _ids(stdout: str) -> set:
    return {r["id"] for r in json.loads(stdout)}


@pytest.mark.slow
def test_a_wheel_install_lists_the_same_claims_as_the_checkout(tmp_path, capsys):
    pytest.importorskip("setuptools")  # the build backend, used without isolation (no network needed)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(REPO)], check=True, capture_output=True, timeout=600)
    assert (target / "convsim" / "experiments" / "first_order").is_dir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    env.pop("CONVSIM_EXPERIMENTS", None)
    code = ("import convsim, convsim_entry, sys; assert convsim.__file__.startswith(sys.argv[1]), convsim.__file__; "
            "sys.argv = ['convsim', 'list', '--format', 'json']; sys.exit(convsim_entry.main())")
    out = subprocess.run([sys.executable, "-c", code, str(target)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    main(["list", "--format", "json"])
    assert _ids(out.stdout) == _ids(capsys.readouterr().out) and len(_ids(out.stdout)) > 100


CLAIM = '''
import convsim as cs

def experiment(s, ctx):
    return ctx.simulate(cs.problems.Quadratic([1.0, 0.5]), cs.methods.GD(0.5), 20, replicas=1, metrics=["dist_sq"])

claim = cs.Claim("{id}", "other", "GD contracts", cs.Source("t", "0000.00000", "T"), (), experiment,
                 lambda tr, s: cs.checks.Linear("dist_sq", 0.75**2, bound="tight", rtol=0.02).check(tr), {{}}, {{}},
                 mutations=(cs.mutations.scale("step_size", 1.5),))
'''


def test_a_plugin_registered_by_entry_point_appears_in_list(tmp_path, monkeypatch, capsys):
    pkg = tmp_path / "myclaims_pkg"
    (pkg / "first_order").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "first_order" / "sps.py").write_text(textwrap.dedent(CLAIM.format(id="plugin-gd")))
    dist = tmp_path / "myclaims-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myclaims\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[convsim.claims]\nmine = myclaims_pkg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["list", "--format", "json"]) == 0
    ids = _ids(capsys.readouterr().out)
    # the plugin's first_order/sps.py does not hide the catalogue's first_order/sps.py, nor the reverse
    assert "plugin-gd" in ids and "sps" in ids


def test_files_of_the_same_name_in_two_folders_both_load(tmp_path):
    for i in (1, 2):
        d = tmp_path / f"dir{i}" / "first_order"
        d.mkdir(parents=True)
        (d / "sps.py").write_text(textwrap.dedent(CLAIM.format(id=f"same-name-{i}")))
    found = cs.claims.discover([tmp_path / "dir1", tmp_path / "dir2"])
    assert {"same-name-1", "same-name-2"} <= set(found)


def test_selecting_nothing_is_a_usage_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(cs.claims, "experiment_dirs", lambda: [tmp_path])
    assert main(["verify", "--all", "--out", str(tmp_path / "o")]) == 2
    assert "no claims found" in capsys.readouterr().err
