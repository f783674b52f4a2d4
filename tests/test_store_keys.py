"""The cache key is a content hash of everything a result depends on; a damaged or stale file is never served."""

import json
import os
import time

import numpy as np
import pytest

import convsim as cs
from convsim import store as st
from convsim.cli import main


def problem(**kw):
    return cs.problems.Quadratic(cs.spectra.geometric(4, 1.0, 0.1), noise=cs.noise.Gaussian(0.1), **kw)


def key(ctx, p, m, **kw):
    keys = []
    real = st.fingerprint

    def spy(config):
        keys.append(real(config))
        return keys[-1]

    import convsim.claims as claims

    claims.fingerprint, old = spy, claims.fingerprint
    try:
        ctx.simulate(p, m, 20, 4, **kw)
    finally:
        claims.fingerprint = old
    return keys[-1]


@pytest.fixture
def ctx():
    return cs.Context()  # no store: only the keys are looked at


def test_metric_functions_enter_the_key_by_their_code(ctx):
    f = lambda problem, x: (x * x).sum(axis=-1)  # noqa: E731
    g = lambda problem, x: 2 * (x * x).sum(axis=-1)  # noqa: E731
    p, m = problem(), cs.methods.SGD(0.1)
    assert key(ctx, p, m, metrics={"m": f}) != key(ctx, p, m, metrics={"m": g})
    assert key(ctx, p, m, metrics={"m": f}) == key(ctx, p, m, metrics={"m": f})


def test_closure_values_and_read_globals_enter_the_key(ctx):
    def make(c):
        return lambda problem, x: c * (x * x).sum(axis=-1)

    p, m = problem(), cs.methods.SGD(0.1)
    assert key(ctx, p, m, metrics={"m": make(1.0)}) != key(ctx, p, m, metrics={"m": make(2.0)})


def test_large_arrays_differing_in_one_entry_give_different_keys(ctx):
    d = 1500
    x0 = np.ones(d)
    y0 = x0.copy()
    y0[777] += 1e-12
    p1 = cs.problems.Quadratic(np.linspace(0.1, 1, d), x0=x0)
    p2 = cs.problems.Quadratic(np.linspace(0.1, 1, d), x0=y0)
    assert np.array_repr(x0) == np.array_repr(y0)  # what used to enter the key
    assert key(ctx, p1, cs.methods.GD(0.1)) != key(ctx, p2, cs.methods.GD(0.1))


def test_user_problems_with_the_default_spec_are_keyed_by_all_attributes(ctx):
    class Scaled(cs.problems.Problem):
        name = "scaled"

        def __init__(self, a):
            self.dim, self.a, self._x0, self._x_star, self._f_star = 2, a, np.ones(2), np.zeros(2), 0.0

        def value(self, x):
            return 0.5 * self.a * (x * x).sum(axis=-1)

        def grad(self, x):
            return self.a * x

    assert Scaled(1.0).spec() == Scaled(2.0).spec()
    assert key(ctx, Scaled(1.0), cs.methods.GD(0.1)) != key(ctx, Scaled(2.0), cs.methods.GD(0.1))


def test_new_code_and_a_changed_claim_file_change_the_key(ctx, monkeypatch):
    p, m = problem(), cs.methods.SGD(0.1)
    before = key(ctx, p, m)
    monkeypatch.setattr(st, "code_identity", lambda: {"convsim": "0.1.0", "source": "other"})
    assert key(ctx, p, m) != before
    monkeypatch.undo()
    assert key(cs.Context(claim_source="abc"), p, m) != key(cs.Context(claim_source="abd"), p, m)


def test_an_unkeyable_object_is_a_one_line_error():
    with pytest.raises(cs.ConvsimError, match="cannot key"):
        st.canonical(i for i in range(3))


def test_a_flipped_bit_is_never_served(tmp_path):
    store = st.ResultStore(tmp_path)
    ctx = cs.Context(store=store)
    p, m = problem(), cs.methods.SGD(0.1)
    tr = ctx.simulate(p, m, 50, 8)
    (path,) = (tmp_path / "runs").glob("*.nc")
    data = bytearray(path.read_bytes())
    # flip the lowest bit of one stored value (netCDF-3 stores big-endian float64), keeping the structure intact
    at = bytes(data).index(np.array([tr.metrics["dist_sq"][3, -1]], dtype=">f8").tobytes())
    data[at + 7] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(cs.ConvsimError, match="damaged"):
        st.load_trace(path)
    assert store.load(path.stem) is None and not path.exists()  # removed, to be recomputed
    again = ctx.simulate(p, m, 50, 8)
    assert np.array_equal(again.metrics["dist_sq"], tr.metrics["dist_sq"])


def test_runs_of_other_code_are_not_served(tmp_path, monkeypatch):
    store = st.ResultStore(tmp_path)
    tr = cs.simulate(problem(), cs.methods.SGD(0.1), 20, 4)
    store.save("k", tr)
    assert store.load("k") is not None
    monkeypatch.setattr(st, "code_identity", lambda: {"convsim": "9", "source": "x"})
    assert store.load("k") is None


def test_stale_temporary_files_are_removed_and_fresh_ones_kept(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    old, young = runs / ".a.nc.1.tmp", runs / ".b.nc.2.tmp"
    old.write_text("x")
    young.write_text("y")
    past = time.time() - 3600
    os.utime(old, (past, past))
    st.ResultStore(tmp_path)
    assert not old.exists() and young.exists()


def test_result_files_follow_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        path = st.save_trace(cs.simulate(problem(), cs.methods.SGD(0.1), 20, 4), tmp_path / "r.nc")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


def test_cache_info_and_clear(capsys, tmp_path):
    store = st.ResultStore(tmp_path)
    store.save("k", cs.simulate(problem(), cs.methods.SGD(0.1), 20, 4))
    assert main(["cache", "info", "--out", str(tmp_path), "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["runs"] == 1 and info["current"] == 1 and info["stale_or_damaged"] == 0
    assert main(["cache", "clear", "--out", str(tmp_path)]) == 0
    assert "removed 1" in capsys.readouterr().out and not list((tmp_path / "runs").glob("*.nc"))
