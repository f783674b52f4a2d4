"""Loss-vs-samples curves of the sqrt-scaling experiment across batch multipliers (figures/sqrt-scaling-curves.png).

Run: /tmp/venv/bin/python experiments/sde/_curves.py [--quick] [OUT.png]
(The leading underscore keeps this script out of claim discovery.)
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import convsim as cs  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import sqrt_scaling as exp  # noqa: E402


def main(quick: bool, out: str):
    s = exp.QUICK if quick else exp.FULL
    N, marks = s["samples"], np.unique(np.geomspace(64, s["samples"], 25).astype(int) // 8 * 8)
    panels = [("adam", cs.sde.SQUARE_ROOT, "Adam, square-root rule"), ("adam", cs.sde.LINEAR, "Adam, linear rule (wrong)"),
              ("sgd", cs.sde.LINEAR, "SGD, linear rule"), ("sgd", cs.sde.ScalingRule(0.5), "SGD, square-root rule (wrong)")]
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True, layout="constrained")
    for ax, (kind, rule, title) in zip(axes.ravel(), panels):
        for kappa in exp.KAPPAS:
            steps = [int(n) // kappa for n in marks]
            tr = cs.simulate(exp.problem_for(s, kappa), exp.method_for(kind, rule, s, kappa), N // kappa,
                             s["replicas"], metrics=["suboptimality"], record=steps)
            ax.plot(tr.steps * kappa, tr.mean("suboptimality"), label=f"batch x{kappa}")
        ax.set(xscale="log", yscale="log", title=title, xlabel="samples", ylabel="E f(x) - f*")
        ax.grid(True, which="both", alpha=0.25)
        ax.legend(fontsize=8)
    fig.suptitle("sqrt-scaling: loss vs samples across batch multipliers (Malladi et al. 2022, arXiv 2205.10287)")
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    main("--quick" in sys.argv, args[0] if args else "figures/sqrt-scaling-curves.png")
