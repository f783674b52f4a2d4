"""Stochastic model building (SMB; Birbil, Martin, Onay & Öztoprak 2021, arXiv 2111.07058), as in the authors'
``SMB.step_smb`` of sibirbil/SMB (source/smbsolve/smb.py), one parameter group.

Each step draws ONE minibatch ξ and evaluates it at x and at the SGD trial point x_t = x − γ g::

    g = ∇f_ξ(x);  accept x_t if f_ξ(x_t) ≤ f_ξ(x) − c γ ‖g‖²  (or ‖g‖ < 1e-8);
    else, with s = −γ g, y = ∇f_ξ(x_t) − g, the model step x ← x + s⁺,
        σ = ½ (‖s‖ (‖y‖ + ‖g‖/η) − sᵀy),  θ = (sᵀy + 2σ)² − ‖s‖²‖y‖²,
        c_g = −‖s‖²/(2σ),  c_s = c_g/θ · (−(sᵀy + 2σ) yᵀg + ‖y‖² sᵀg),  c_y = c_g/θ · (−(sᵀy + 2σ) sᵀg + ‖s‖² yᵀg),
        s⁺ = c_s s + c_g g + c_y y.

Defaults are the authors': γ = 1, c = 0.1, η = 0.99 (no step-size auto-scheduling).  ``model_step=False``
drops the model step (every trial point accepted: plain SGD with step γ).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from array_api_compat import array_namespace

from ..errors import in_range, positive
from .base import Method

SMALL_GRADIENT = 1e-8  # the authors' threshold below which the trial point is always taken


class ModelBuildingState(NamedTuple):
    x: Any
    model_steps: Any  # (R,): how many steps took the model step (the trial point was rejected)


def model_step(s, g, y, eta: float):
    """The SMB step s⁺ = c_s s + c_g g + c_y y from the secant pair (s, y) and the gradient g (batched rows)."""
    xp = array_namespace(s)

    def dot(u, w):
        return xp.sum(u * w, axis=-1, keepdims=True)

    ys, ss, yy, yg, gg, sg = dot(y, s), dot(s, s), dot(y, y), dot(y, g), dot(g, g), dot(s, g)
    sigma = 0.5 * (xp.sqrt(ss) * (xp.sqrt(yy) + xp.sqrt(gg) / eta) - ys)
    theta = (ys + 2.0 * sigma) ** 2 - ss * yy
    cg = -ss / (2.0 * sigma)
    cs = cg / theta * (-(ys + 2.0 * sigma) * yg + yy * sg)
    cy = cg / theta * (-(ys + 2.0 * sigma) * sg + ss * yg)
    return cs * s + cg * g + cy * y


@dataclass(frozen=True)
class StochasticModelBuilding(Method):
    """SMB: an SGD trial step with an Armijo test on the same minibatch, else the model-building step."""

    step_size: float = 1.0
    armijo: float = 0.1
    eta: float = 0.99
    model_step: bool = True

    name = "smb"
    description = "stochastic model building: SGD trial step, same-minibatch Armijo test, else a secant model step"
    source = "Birbil, Martin, Onay & Oztoprak (2021), arXiv 2111.07058; sibirbil/SMB"

    def __post_init__(self):
        positive("step_size", self.step_size)
        in_range("armijo", self.armijo, 0.0, 1.0)
        in_range("eta", self.eta, 0.0, 1.0, closed_low=False)

    def init(self, x0):
        xp = array_namespace(x0)
        return ModelBuildingState(x0, xp.zeros((x0.shape[0],), dtype=x0.dtype))

    def step(self, state, oracle, t):
        xp = array_namespace(state.x)
        x, lr = state.x, self.step_size
        f, g, x_trial, f_trial, g_trial = oracle.same_sample_values_and_grads(x, lambda grad: x - lr * grad)
        if not self.model_step:
            return ModelBuildingState(x_trial, state.model_steps)
        gg = xp.sum(g * g, axis=-1)
        accept = (f_trial <= f - self.armijo * lr * gg) | (xp.sqrt(gg) < SMALL_GRADIENT)
        # the model step is computed everywhere and kept where the trial was rejected (no host sync)
        safe_g = xp.where(accept[:, None], xp.ones_like(g), g)
        safe_y = xp.where(accept[:, None], xp.ones_like(g), g_trial - g)
        x_model = x + model_step(-lr * safe_g, safe_g, safe_y, self.eta)
        rejected = xp.logical_not(accept)
        return ModelBuildingState(xp.where(accept[:, None], x_trial, x_model),
                                  state.model_steps + xp.astype(rejected, x.dtype))
