"""An Ornstein–Uhlenbeck system whose equilibrium solves F y = g, read out by time averages (TNGD, arXiv:2405.13817).

dx = −(F x − g) dt + √(2T) dW with F symmetric positive definite has the stationary law N(F⁻¹g, T F⁻¹):
its mean is the natural-gradient direction F⁻¹g.  Sampled every Δt its exact transition is the AR(1)
chain x ← μ + E (x − μ) + L ξ, E = e^{−FΔt}, L Lᵀ = Σ − E Σ E (Σ = T F⁻¹).  From equilibrium the
average of N samples x̄_N has, in F's eigenbasis (λ_i, ρ_i = e^{−λ_i Δt}, s_i = T/λ_i),

    E‖x̄_N − F⁻¹g‖² = Σ_i (s_i/N²) [N + 2 ρ_i (N(1 − ρ_i) − (1 − ρ_i^N))/(1 − ρ_i)²]  ~  (1/N) Σ_i s_i (1 + ρ_i)/(1 − ρ_i),

the OU rate 1/N with the integrated autocorrelation as constant (:func:`time_average_mse`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ..backend import asarray, dtype_of
from ..errors import positive


@dataclass(frozen=True)
class ThermodynamicSolver:
    """The OU system sampled every ``dt``; ``coupling`` scales the drift −(Fx − g) (1: the system as built)."""

    dt: float
    temperature: float
    coupling: float = 1.0
    force_scale: float = 1.0
    """Scales g in the drift (1: the system as built; else its equilibrium mean is off F⁻¹g)."""

    def __post_init__(self):
        positive("dt", self.dt)
        positive("temperature", self.temperature)
        positive("coupling", self.coupling)

    def transition(self, F, g):
        """(mean F⁻¹g, E, L) of the exact sampled chain (host arrays)."""
        Fc = self.coupling * np.asarray(F, dtype=np.float64)
        mean = np.linalg.solve(F, self.force_scale * np.asarray(g, dtype=np.float64))
        E = scipy.linalg.expm(-Fc * self.dt)
        stationary = self.temperature * self.coupling * np.linalg.inv(Fc)
        step = stationary - E @ stationary @ E.T
        return mean, E, np.linalg.cholesky(0.5 * (step + step.T)), np.linalg.cholesky(stationary)

    def running_errors(self, F, g, record, rng, xp, dtype_name):
        """‖x̄_N − F⁻¹g‖² at each N in ``record`` for every replica, from an equilibrium start (shape (R, len(record)))."""
        dt = dtype_of(xp, dtype_name)
        target = np.linalg.solve(F, g)  # the system's purpose: the natural-gradient direction
        mean, E, L, root = self.transition(F, g)
        mean_d, E_T, L_T = (asarray(xp, a, dt) for a in (mean, E.T, L.T))
        target_d = asarray(xp, target, dt)
        d = mean.size
        x = mean_d + xp.matmul(rng.normal(d), asarray(xp, root.T, dt))
        total = x
        out, want = [], set(int(n) for n in record)
        for n in range(1, int(max(record)) + 1):
            if n in want:
                e = total / n - target_d
                out.append(xp.sum(e * e, axis=1))
            x = mean_d + xp.matmul(x - mean_d, E_T) + xp.matmul(rng.normal(d), L_T)
            total = total + x
        return xp.stack(out, axis=1)


def time_average_mse(F, temperature: float, dt: float, N) -> np.ndarray:
    """The exact E‖x̄_N − F⁻¹g‖² of the module docstring, for each N (independent of g)."""
    lam = np.linalg.eigvalsh(np.asarray(F, dtype=np.float64))
    N = np.asarray(N, dtype=np.float64)[:, None]
    rho, s = np.exp(-lam * dt), temperature / lam
    corr = N + 2 * rho * (N * (1 - rho) - (1 - rho**N)) / (1 - rho) ** 2
    return np.sum(s * corr / N**2, axis=1)
