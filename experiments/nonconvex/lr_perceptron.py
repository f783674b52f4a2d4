"""lr-perceptron: logistic regression + GD with a large step becomes the batch perceptron.

Source: A. Tyurin, "From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent
with Large Step Sizes", arXiv:2412.08424.  What was read: the abstract only (the theorem text and the
exact form of the batch perceptron and of Normalized LR+GD were not found in the stores).  The
abstract's first observation is tested: on separable data, LR+GD "reduces to a batch version of the
perceptron algorithm when the step size γ → ∞".

The limit, derived here: GD on f(x) = (1/n) Σ log(1 + exp(−⟨z_i, x⟩)) from x_0 = 0 is
x_{t+1} = x_t + (γ/n) Σ_i σ(−⟨z_i, x_t⟩) z_i.  With x_t = γ w_t, σ(−γ⟨z_i, w_t⟩) → θ(−⟨z_i, w_t⟩),
θ = 1 on (0, ∞), ½ at 0 (σ(0) = ½: every point at the first step), 0 on (−∞, 0), so
w_{t+1} = w_t + (1/n) Σ_i θ(−⟨z_i, w_t⟩) z_i: the batch perceptron (it adds the mean of the
misclassified signed points and stops once the data are separated).  The recursion is written
below on the host from the data, never from the method under test.

Setting: SeparableLogistic, n = 60 points in d = 6 with margin 0.05 and spread 0.1 (w* known; the batch
perceptron needs 47 steps to separate them), γ = 10⁶, x_0 = 0, 200 steps.
Metric: the direction loss (1/n) Σ exp(−⟨z_i, x⟩/‖x‖), a positive function of the direction of x
only, so LR+GD's x_t and the perceptron's w_t = x_t/γ are compared directly.

  - `lr-perceptron`: Reference, LR+GD's direction loss equals the batch perceptron's at every
    step to rtol 10⁻⁶ (deterministic, one replica).
  - `lr-perceptron-neg` (near miss): the same perceptron but with a full first step (θ(0) = 1, the
    tie counted as a mistake): same first direction, a different path from the second step on.
  - `lr-perceptron-loss`: "larger step sizes lead LR+GD to higher logistic losses when it tends to the
    perceptron algorithm" (abstract, second observation), made exact: log(1 + e^{−γm}) = γ max(0, −m)
    + O(e^{−γ|m|}), so f(x_t)/γ → (1/n) Σ max(0, −⟨z_i, w_t⟩), the perceptron's loss: the logistic loss
    grows linearly in γ until the data are separated (Reference at rtol 10⁻⁶ wherever the perceptron
    loss is positive).  Its control is off by one step (the loss of w_{t−1}), judged on the first half
    of the steps before separation (re-specified after a full run: judged up to separation, the steep
    final drop made it a far control, margin 0.07).
Both claims run with γ = 10⁶: at γ = 10⁴ the direction loss is 0.9% off the perceptron's (the smallest
nonzero |⟨z_i, w_t⟩| along the path is ~10⁻³·⁴, so e^{−γ|m|} is not negligible); at 10⁶ and 10⁸ it
agrees to 2e-16 (measured).  Not claimed, measured: separation takes 66, 51, 43 and 47 steps at
γ = 1, 10, 100, 10⁶, so "fewer iterations to separate" is not monotone in γ on this dataset.
Mutations: the step ×10⁻⁶ (γ = 1: ordinary LR+GD, off the perceptron path), ×10⁻² (γ = 10⁴) and ×2
(the loss per step no longer matches with the claim's γ), caught; ×10 blind for the path (γ = 10⁷ is
nearer the limit still).  Not tested: the iteration
complexity results and Normalized LR+GD (their statements were not available).
"""

from dataclasses import dataclass

import numpy as np

import convsim as cs
from convsim import mutations as mu
from convsim.problems.classification import SeparableLogistic, direction_loss

NEEDS_FLOAT64 = "the perceptron limit is matched to rtol 1e-6 with gamma = 1e6: float32 resolution is 6e-8 of |x| ~ 1e6"

SOURCE = cs.Source("From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large "
                   "Step Sizes", "2412.08424", "abstract: LR+GD reduces to the batch perceptron as gamma -> infinity; "
                   "larger steps give higher logistic losses (theorem text not read)")


def problem_for(s):
    return SeparableLogistic(s["n"], s["d"], margin=s["margin"], spread=s["spread"], seed=s["seed"])


def record_for(s):
    return np.arange(s["steps"] + 1)


def experiment(s, ctx):
    return ctx.simulate(problem_for(s), cs.methods.GD(s["gamma"]), s["steps"], 1, metrics={"direction_loss": direction_loss},
                        record=record_for(s))


def perceptron_path(s, first_tie_weight=0.5):
    """The batch perceptron w_{t+1} = w_t + (1/n) Σ θ(−⟨z_i, w_t⟩) z_i from w_0 = 0: rows w_0..w_steps.

    θ = 1 for a mistake, 0 for a correct point, ½ for a tie (σ(0) = ½); ``first_tie_weight`` replaces
    the ½ at w_0 = 0, where every point is a tie (the negative control's variant)."""
    z = problem_for(s).signed
    path = [np.zeros(z.shape[1])]
    for t in range(s["steps"]):
        m = z @ path[-1]
        theta = np.where(m < 0, 1.0, np.where(m == 0, first_tie_weight if t == 0 else 0.5, 0.0))
        path.append(path[-1] + theta @ z / z.shape[0])
    return z, np.array(path)


def perceptron_direction_losses(s, first_tie_weight=0.5):
    """The direction loss (1/n) Σ exp(−⟨z_i, w_t⟩/‖w_t‖) along the batch perceptron (1 at w_0 = 0)."""
    z, path = perceptron_path(s, first_tie_weight)
    norms = np.linalg.norm(path, axis=1, keepdims=True)
    return np.mean(np.exp(-(path / np.where(norms > 0, norms, 1.0)) @ z.T), axis=1)


def perceptron_check(first_tie_weight=0.5):
    def check(trace, s):
        ref = perceptron_direction_losses(s, first_tie_weight)
        return cs.checks.Reference("direction_loss", lambda t: ref[np.asarray(t, dtype=int)], rtol=1e-6,
                                   what="batch perceptron").check(trace)
    return check


QUICK = {"n": 60, "d": 6, "margin": 0.05, "spread": 0.1, "seed": 3, "gamma": 1e6, "steps": 200}
FULL = {"n": 200, "d": 20, "margin": 0.01, "spread": 0.05, "seed": 3, "gamma": 1e6, "steps": 1000}
ASSUMPTIONS = ("linearly separable data", "unregularized logistic loss", "GD from x0 = 0 with a constant step gamma",
               "gamma large (the limit gamma -> infinity)")

claim = cs.Claim(
    id="lr-perceptron",
    family="nonconvex",
    statement="LR+GD with step gamma -> infinity follows the batch perceptron: x_t / gamma -> w_t, "
              "w_{t+1} = w_t + (1/n) sum_i theta(-<z_i, w_t>) z_i",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=experiment,
    check=perceptron_check(),
    quick=QUICK,
    full=FULL,
    mutations=(
        mu.scale("step_size", 1e-6),
        mu.scale("step_size", 1e-2),
        mu.scale("step_size", 10.0).blind("gamma = 1e7 is nearer the perceptron limit still"),
    ),
)

negative = claim.negative_control(
    "the limit is the batch perceptron with a full first step (the tie at w_0 = 0 counted as a mistake) (false)",
    perceptron_check(first_tie_weight=1.0),
)


@dataclass(frozen=True)
class LossPerStep:
    """Metric: f(x) / γ, the logistic loss in units of the step (a frozen dataclass, so runs are keyed by γ)."""

    gamma: float

    def __call__(self, problem, x):
        return problem.value(x) / self.gamma


def loss_experiment(s, ctx):
    return ctx.simulate(problem_for(s), cs.methods.GD(s["gamma"]), s["steps"], 1,
                        metrics={"loss_per_step": LossPerStep(s["gamma"])}, record=record_for(s))


def perceptron_losses(s, lag=0):
    """(1/n) Σ max(0, −⟨z_i, w_{t−lag}⟩) along the batch perceptron (0 before its start)."""
    z, path = perceptron_path(s)
    out = np.mean(np.maximum(0.0, -(path @ z.T)), axis=1)
    return np.concatenate([np.zeros(lag), out[:out.size - lag]]) if lag else out


def loss_check(lag=0):
    def check(trace, s):
        ref = perceptron_losses(s, lag)
        # the control is judged on the first half of the steps before separation (both losses positive),
        # so its margin measures the one-step lag rather than the steep drop to zero at separation
        window = None if lag == 0 else (1, int(np.flatnonzero(perceptron_losses(s) > 0)[-1]) // 2)
        return cs.checks.Reference("loss_per_step", lambda t: ref[np.asarray(t, dtype=int)], rtol=1e-6,
                                   window=window, what="perceptron loss").check(trace)
    return check


loss = cs.Claim(
    id="lr-perceptron-loss",
    family="nonconvex",
    statement="larger steps give higher logistic losses: f(x_t) / gamma -> (1/n) sum_i max(0, -<z_i, w_t>) "
              "(the batch perceptron's loss) as gamma -> infinity, so f(x_t) grows linearly in gamma before separation",
    source=SOURCE,
    assumptions=ASSUMPTIONS,
    experiment=loss_experiment,
    check=loss_check(),
    quick=QUICK,
    full=FULL,
    mutations=(mu.scale("step_size", 1e-2), mu.scale("step_size", 2.0)),
)

loss_negative = loss.negative_control(
    "f(x_t) / gamma tends to the perceptron loss of the previous iterate w_{t-1} (off by one step: false)",
    loss_check(lag=1),
)
