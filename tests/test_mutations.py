"""Mutations rewrite what a claim runs (never its check), the Context applies them, `convsim mutate` reports
them; tightness and the Reference / Compare checkers that make a verdict able to fail."""

import json
import textwrap

import numpy as np
import pytest

import convsim as cs
from convsim import mutations as mu
from convsim.cli import main
from convsim.engine.trace import Series


def test_scale_reaches_numbers_schedules_and_wrapped_methods():
    sgd = cs.methods.SGD(0.1, momentum=0.5)
    doubled, hits = mu.scale("step_size", 2.0).apply(sgd)
    assert hits == 1 and doubled.step_size(7) == pytest.approx(0.2) and sgd.step_size(7) == pytest.approx(0.1)
    avg = cs.methods.Averaged(cs.methods.SGD(cs.schedules.inverse_time(c=2.0, t0=4.0)))
    out, hits = mu.scale("c", 0.5).apply(avg)  # a schedule's field, two levels down
    assert hits == 1 and out.inner.step_size(0) == pytest.approx(0.25) and isinstance(out, cs.methods.Averaged)
    out, hits = mu.drop("momentum").apply(sgd)
    assert hits == 1 and out.momentum == 0.0
    out, hits = mu.set_field("momentum", 0.9, on="HeavyBall").apply(sgd)  # `on` filters by class
    assert hits == 0 and out is sgd


def test_shift_and_compose():
    sgd = cs.methods.SGD(cs.schedules.inverse_time(c=1.0, t0=1.0))
    out, hits = mu.shift("step_size", 3).apply(sgd)
    assert hits == 1 and out.step_size(0) == pytest.approx(sgd.step_size(3))
    both = mu.scale("step_size", 2.0) & mu.shift("step_size", 1)
    out, hits = both.apply(sgd)
    assert hits == 2 and out.step_size(0) == pytest.approx(2 * sgd.step_size(1))


def test_drop_wraps_callable_terms_of_an_sde():
    sde = cs.sde.SDE(1, drift=lambda x, t: -x, diffusion=lambda x, t: np.ones_like(x))
    out, hits = mu.drop("diffusion", on="SDE").apply(sde)
    x = np.ones((3, 1))
    assert hits == 1 and np.all(out.diffusion(x, 0.0) == 0) and np.all(out.drift(x, 0.0) == -x)
    out, _ = mu.scale("diffusion", 2.0).apply(sde)
    assert np.all(out.diffusion(x, 0.0) == 2)


def test_blind_needs_a_reason_and_names_are_unique_per_claim():
    with pytest.raises(cs.ConvsimError):
        mu.Mutation("m", lambda o: o, expect="blind")
    m = mu.scale("step_size", 0.5).blind("an upper bound cannot see a smaller step")
    assert m.expect == "blind" and m.why
    with pytest.raises(cs.ConvsimError, match="share a name"):
        cs.Claim("x", "first-order", "s", cs.Source("t", "0000.00000", "T"), (), lambda s, c: None, lambda d, s: None, {}, {},
                 mutations=(m, m))


def _claim(mutations, factor=1.0):
    problem = cs.problems.Quadratic(cs.spectra.uniform(5, 0.5, 1.0))

    def experiment(s, ctx):
        return ctx.simulate(problem, cs.methods.GD(factor * 0.5), 60, replicas=1, metrics=["dist_sq"])

    # exact GD rate on this quadratic: the slowest direction contracts by (1 - 0.5·0.5)² per step
    check = lambda tr, s: cs.checks.Linear("dist_sq", 0.75**2, bound="tight", rtol=0.02).check(tr)  # noqa: E731
    return cs.Claim("gd-toy", "first-order", "GD contracts at (1 - gamma mu)^2", cs.Source("t", "0000.00000", "T"), (),
                    experiment, check, {}, {}, mutations=mutations)


def test_run_mutated_catches_changes_nothing_and_never_serves_the_true_run(tmp_path):
    ctx = cs.Context(store=cs.store.ResultStore(tmp_path))
    claim = _claim((mu.scale("step_size", 1.5), mu.scale("noise_std", 2.0)))
    assert claim.run(ctx).verdict.verdict == "consistent"
    caught = claim.run_mutated(ctx, claim.mutations[0])
    assert caught.caught and caught.verdict == "violated" and caught.ok  # the cached true run was not reused
    nothing = claim.run_mutated(ctx, claim.mutations[1])
    assert nothing.error and "changed nothing" in nothing.error and not nothing.ok
    assert claim.run(ctx).verdict.verdict == "consistent"  # and the mutated run did not poison the true one
    assert claim.negative_control("wrong", claim.check).mutations == ()


def test_a_field_set_to_the_value_it_has_changes_nothing():
    method = cs.methods.SGD(0.1, momentum=0.9)
    same, hits = mu.set_field("momentum", 0.9).apply(method)
    assert hits == 0 and same == method  # so run_mutated reports "changed nothing", never a miss or a catch
    other, hits = mu.set_field("momentum", 0.5).apply(method)
    assert hits == 1 and other.momentum == 0.5
    assert mu.scale("momentum", 1.0).apply(method)[1] == 0


def test_envelope_tightness_ignores_the_start_of_the_run():
    x = np.array([0.0, 1, 10, 100, 1000, 10000])
    bound = 1.0 + 0 * x
    y = np.array([[0.85, 0.5, 0.3, 0.2, 0.2, 0.2]])
    v = cs.checks.Envelope("m", "1 + 0*t").check(Series(x, np.repeat(y, 4, 0), "t", "m", np.full(4, -1)))
    assert v.verdict == "consistent" and v.estimate == pytest.approx(0.85)  # the worst ratio anywhere (t = 0)
    assert v.tightness["value"] == pytest.approx(0.2) and v.tightness["window"][0] >= 100  # the decisive window
    assert not v.loose and bound.size == x.size


def test_exponent_tightness_is_fitted_minus_claimed_and_flags_loose_claims():
    x = np.geomspace(10, 1e4, 20)
    y = np.tile(x**-1.0, (3, 1))
    v = cs.checks.Exponent("m", -0.2, bound="upper").check(Series(x, y, "t", "m", np.full(3, -1)))
    assert v.verdict == "consistent" and v.tightness["value"] == pytest.approx(-0.8) and v.loose


def test_compare_fails_on_a_tie():
    rng = np.random.default_rng(0)
    y = rng.exponential(size=(50, 4))
    s = Series(np.arange(4.0), y, "t", "m", np.full(50, -1))
    v = cs.checks.Compare("m", 1.0).check(s, s)
    assert v.verdict == "violated" and "identical" in v.reason


def _reference_series(rng, scale, replicas=400):
    x = np.geomspace(1, 1e3, 12)
    ref = 1.0 / x
    y = scale * ref * rng.exponential(size=(replicas, x.size))  # mean scale·ref, relative sd 1
    return Series(x, y, "t", "m", np.full(replicas, -1)), ref


def test_reference_accepts_the_true_curve_and_rejects_a_five_percent_error_at_least_95_percent():
    rng = np.random.default_rng(1)
    accepted, rejected = [], []
    for _ in range(200):
        s, ref = _reference_series(rng, 1.0, replicas=20000)
        accepted.append(cs.checks.Reference("m", ref, rtol=0.1).check(s).verdict == "consistent")
        s, ref = _reference_series(rng, 1.0 / 1.15, replicas=20000)
        rejected.append(cs.checks.Reference("m", ref, rtol=0.1).check(s).verdict == "violated")
    assert np.mean(accepted) >= 0.95 and np.mean(rejected) >= 0.95


def test_reference_with_too_few_replicas_is_inconclusive_not_consistent():
    s, ref = _reference_series(np.random.default_rng(2), 1.0, replicas=20)
    assert cs.checks.Reference("m", ref, rtol=0.01).check(s).verdict == "inconclusive"


CLAIM_FILE = '''
import convsim as cs
from convsim import mutations as mu

def experiment(s, ctx):
    problem = cs.problems.Quadratic(cs.spectra.uniform(5, 0.5, 1.0))
    return ctx.simulate(problem, cs.methods.GD(0.5), 60, replicas=1, metrics=["dist_sq"])

check = lambda tr, s: cs.checks.Linear("dist_sq", 0.75**2, bound="tight", rtol=0.02).check(tr)
claim = cs.Claim("toy-gd", "first-order", "GD rate", cs.Source("t", "0000.00000", "T"), (), experiment, check, {{}}, {{}},
                 mutations=({mutations}))
'''


@pytest.mark.parametrize("mutations, code", [
    ("mu.scale('step_size', 1.5), mu.scale('step_size', 1.01).blind('too small to resolve')", 0),
    ("mu.scale('step_size', 1.001),", 1),    # a declared catch that does not happen
    ("", 1),                                 # a consistent claim that declares nothing it must catch
])
def test_mutate_command_matrix_and_exit_codes(capsys, tmp_path, monkeypatch, mutations, code):
    (tmp_path / "exp").mkdir()
    # claim modules are cached by folder and file name: one file name per case
    (tmp_path / "exp" / f"toy{abs(hash(mutations))}.py").write_text(textwrap.dedent(CLAIM_FILE.format(mutations=mutations)))
    monkeypatch.setenv("CONVSIM_EXPERIMENTS", str(tmp_path / "exp"))
    rc = main(["mutate", "toy-gd", "--out", str(tmp_path / "out"), "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == code and out[0]["id"] == "toy-gd"
    for m in out[0]["mutations"]:
        assert {"name", "expect", "verdict", "caught"} <= set(m)
    stored = json.loads((tmp_path / "out" / "mutations.json").read_text())
    assert "toy-gd@full" in stored


def test_verify_records_carry_tightness_and_controls_a_margin(capsys, tmp_path):
    main(["verify", "gd-linear", "gd-linear-neg", "--quick", "--out", str(tmp_path), "--format", "json"])
    records = json.loads(capsys.readouterr().out)
    for r in records:
        assert "tightness" in r and "loose" in r and "margin" in r
    control = [r for r in records if r["negative_of"]][0]
    assert control["margin"] == control["tightness"] and control["margin"] is not None
