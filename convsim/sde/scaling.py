"""Batch-size scaling rules: hyperparameters for batch κB that keep a method's SDE unchanged.

Why they hold: the minibatch gradient noise covariance is Σ/B, so growing the batch by κ
divides the noise scale σ by √κ.  A rule is a map of the hyperparameters that leaves
the method's SDE (and its time per sample) invariant:

* SGD's SDE dX = −∇f dt + √(η/B) Σ^½ dW (time t = kη) depends on η/B only, and κB
  samples per step at κη per step keep t per sample fixed: the **linear rule** η → κη
  (Goyal et al. 2017; Jastrzębski et al. 2017; Malladi et al. 2022, arXiv 2205.10287).
* RMSprop/Adam's SDEs (Malladi et al. 2022, Sec. 5, the square-root scaling rule)
  depend on σ0 = ση, ε0 = εη, c_i = (1 − β_i)/η² with time t = kη²: the
  **square-root rule** η → √κ η, 1 − β_i → κ(1 − β_i), ε → ε/√κ keeps all three and
  the time per sample fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import in_range, positive, require


@dataclass(frozen=True)
class ScalingRule:
    """A batch-size scaling rule as exponents of κ (batch B → κB):
    η → κ^eta_power η,  1 − β_i → κ^beta_power (1 − β_i),  ε → κ^eps_power ε.

    :data:`LINEAR` (SGD) is (1, 0, 0); :data:`SQUARE_ROOT` (RMSprop/Adam, Malladi et al. 2022) is
    (½, 1, −½).  A frozen dataclass, so a claim's rule is an object a mutation can rewrite (a
    wrong exponent is a wrong rule).
    """

    eta_power: float
    beta_power: float = 0.0
    eps_power: float = 0.0
    name: str = "rule"

    def apply(self, kappa: float, eta: float, *, beta1: float | None = None, beta2: float | None = None,
              eps: float | None = None) -> dict:
        """The hyperparameters for batch κB; parameters left as None are not returned."""
        kappa = positive("kappa", kappa)
        out = {"eta": positive("eta", eta) * kappa**self.eta_power}
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if beta is not None:
                in_range(name, beta, 0.0, 1.0)
                scaled = 1.0 - kappa**self.beta_power * (1.0 - beta)
                require(scaled >= 0.0, f"the {self.name} rule needs kappa^{self.beta_power:g}*(1 - {name}) <= 1, "
                                       f"got {kappa}*(1 - {beta})")
                out[name] = scaled
        if eps is not None:
            require(eps >= 0, f"eps must be non-negative, got {eps!r}")
            out["eps"] = eps * kappa**self.eps_power
        return out


LINEAR = ScalingRule(1.0, name="linear")
SQUARE_ROOT = ScalingRule(0.5, 1.0, -0.5, name="square-root")


def linear_rule(eta: float, kappa: float) -> dict:
    """SGD (also SGD with momentum at fixed β): η → κη when the batch grows by κ."""
    return LINEAR.apply(kappa, eta)


def sqrt_rule(eta: float, kappa: float, *, beta1: float | None = None, beta2: float | None = None,
              eps: float | None = None) -> dict:
    """RMSprop/Adam (Malladi et al. 2022, Def. of the square-root scaling rule):
    η → √κ η, β_i → 1 − κ(1 − β_i), ε → ε/√κ.  Parameters left as None are not returned.

    RMSprop's β is passed as ``beta2`` (it plays the second-moment role).
    """
    return SQUARE_ROOT.apply(kappa, eta, beta1=beta1, beta2=beta2, eps=eps)
