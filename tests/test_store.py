import numpy as np
import pytest

import convsim as cs
from convsim.store import ResultStore, load_trace, save_trace


def small_trace():
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1), noise=cs.noise.Gaussian(0.1))
    return cs.simulate(p, cs.methods.SGD(0.1), 100, 8, seed=3)


def test_round_trip(tmp_path):
    tr = small_trace()
    back = load_trace(save_trace(tr, tmp_path / "run.nc"))
    np.testing.assert_array_equal(back.steps, tr.steps)
    np.testing.assert_array_equal(back.diverged_at, tr.diverged_at)
    for k in tr.metrics:
        np.testing.assert_array_equal(back.metrics[k], tr.metrics[k])
    assert back.meta["seed"] == 3 and back.meta["versions"]["numpy"] == np.__version__
    assert back.constants["L"] == tr.constants["L"]


def test_xarray_and_pandas_read_a_run_in_one_line(tmp_path):
    xr = pytest.importorskip("xarray")
    tr = small_trace()
    path = save_trace(tr, tmp_path / "run.nc")
    ds = xr.open_dataset(path)
    np.testing.assert_array_equal(ds["dist_sq"].values, tr.metrics["dist_sq"])
    df = xr.open_dataset(path).to_dataframe()
    assert len(df) == tr.replicas * tr.steps.size and "suboptimality" in df.columns


def test_interrupted_writes_leave_the_previous_result_intact(tmp_path, monkeypatch):
    tr = small_trace()
    path = save_trace(tr, tmp_path / "run.nc")
    before = path.read_bytes()
    import scipy.io._netcdf as nc

    def boom(self, *a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(nc.netcdf_file, "createVariable", boom)
    with pytest.raises(KeyboardInterrupt):
        save_trace(tr, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.nc"]  # no temporary left behind


def test_context_reuses_stored_runs_unless_told_otherwise(tmp_path, monkeypatch):
    store = ResultStore(tmp_path)
    p = cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1), noise=cs.noise.Gaussian(0.1))
    calls = []
    import convsim.claims as claims

    real = claims.simulate
    monkeypatch.setattr(claims, "simulate", lambda *a, **k: calls.append(1) or real(*a, **k))
    ctx = cs.Context(store=store)
    a = ctx.simulate(p, cs.methods.SGD(0.1), 100, 8)
    b = ctx.simulate(p, cs.methods.SGD(0.1), 100, 8)
    assert len(calls) == 1 and np.array_equal(a.metrics["dist_sq"], b.metrics["dist_sq"])
    ctx.simulate(p, cs.methods.SGD(0.2), 100, 8)  # a different configuration is a different run
    cs.Context(store=store, use_cache=False).simulate(p, cs.methods.SGD(0.1), 100, 8)
    assert len(calls) == 3
    assert len(list((tmp_path / "runs").glob("*.nc"))) == 2


def test_run_files_name_their_claim_and_hold_integers_and_plain_metadata(tmp_path, capsys):
    xr = pytest.importorskip("xarray")
    from convsim.cli import main

    main(["verify", "gd-linear", "--quick", "--out", str(tmp_path), "--no-figures"])
    (path,) = (tmp_path / "runs").glob("*.nc")
    ds = xr.open_dataset(path)
    assert ds.attrs["claim"] == "gd-linear" and ds.attrs["meta_seed"] == 0
    assert ds.attrs["meta_problem_name"] == "quadratic" and ds.attrs["meta_versions_numpy"] == np.__version__
    assert ds["step"].dtype == np.int32 and ds["diverged_at"].dtype == np.int32
    back = load_trace(path)
    assert back.steps.dtype == np.int64 and back.meta["claim"] == "gd-linear"
