"""Metrics of particle methods that read the method's state (:class:`~convsim.engine.simulate.StateMetric`)."""

from __future__ import annotations

from array_api_compat import array_namespace

from ..engine.simulate import StateMetric


def particle_energy_of(problem, x, state):
    """V(ρ̂) = ½ (1/N) Σ_i ‖X_i − x*‖² of each replica's N particles ``state.particles`` (R, N, d): the
    functional whose decay the CBO convergence theorems bound (Fornasier, Klock & Riedl, arXiv 2103.15130)."""
    xp = array_namespace(state.particles)
    e = state.particles - problem.x_star_on(x)
    return 0.5 * xp.mean(xp.sum(e * e, axis=-1), axis=1)


PARTICLE_ENERGY = StateMetric(particle_energy_of)
"""``metrics={"energy": PARTICLE_ENERGY}`` records V(ρ̂) at every checkpoint."""


def grad_norm_of(problem, x):
    """‖∇f(x)‖ per replica (the stationarity measure of nonconvex ZO theorems, not squared)."""
    xp = array_namespace(x)
    g = problem.grad(x)
    return xp.sqrt(xp.sum(g * g, axis=-1))


GRAD_NORM = grad_norm_of
"""``metrics={"grad_norm": GRAD_NORM}`` records ‖∇f(x)‖ (a module-level function: process pools can pickle it)."""
