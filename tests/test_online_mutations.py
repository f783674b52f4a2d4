"""The online learners' plantable fields (issue #11): a dropped hint is plain OMD, exactly."""

import numpy as np

import convsim as cs
from convsim import mutations as mu

on = cs.online
XP = cs.backend.namespace("numpy")


def _play(learner, domain, grads):
    state = learner.init(grads.shape[1], domain, XP, XP.float64)
    plays = [state.x.copy()]
    for t, g in enumerate(grads):
        state = learner.update(state, g, t, XP, domain)
        plays.append(state.x.copy())
    return np.stack(plays)


def test_optimistic_omd_without_its_hint_is_omd_with_the_same_adaptive_step():
    grads = np.random.default_rng(4).normal(size=(40, 3, 2)) * 2.0
    ball, step = on.Ball(2, 1.0), on.Adaptive(D=2.0, delta=1.0, cap=0.25)
    plain = _play(on.OMD(step), ball, grads)
    hintless = _play(on.OptimisticOMD(step, optimistic=False), ball, grads)
    np.testing.assert_allclose(hintless, plain, rtol=0, atol=1e-14)
    optimistic = _play(on.OptimisticOMD(step), ball, grads)
    assert np.abs(optimistic - plain).max() > 1e-3  # the hint does change the plays


def test_the_hint_field_and_the_regularizer_scale_are_reachable_by_mutations():
    learner = on.OptimisticOMD(on.Adaptive(D=2.0, cap=0.25))
    assert "optimistic" not in learner.spec()  # the paper's learner keeps its spec (and its stored runs)
    dropped, hits = mu.set_field("optimistic", False).apply(learner)
    assert hits == 1 and dropped.spec()["optimistic"] is False
    scaled, hits = mu.scale("D", 0.25).apply(learner)
    assert hits == 1 and scaled.step.D == 0.5
    const, hits = mu.custom("constant", lambda a: cs.schedules.constant(a.cap), on="Adaptive").apply(learner)
    assert hits == 1 and const.step(7) == 0.25
