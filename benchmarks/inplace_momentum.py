"""Speed of the in-place momentum steps against the functional ones they replaced.

Heavy ball, Nesterov (convsim/methods/gradient.py), ASGD, NAG-GS, stochastic AGD and Muon
(convsim/methods/momentum.py) update the arrays their state owns in place on NumPy, PyTorch and
CuPy, with the numbers of the functional formulas bit for bit (tests/test_inplace_momentum.py).
This script loads the functional versions from a git revision (default HEAD, i.e. before the change
while it is uncommitted; pass the commit before it afterwards) and times both, in interleaved
rounds (the machine is shared and noisy: the ratio is the median over rounds of old/new time):

- ``step``: the method's own work, ``steps`` steps on a fixed gradient array (no sampling), and
- ``simulate``: ``convsim.simulate`` on a diagonal quadratic with Gaussian noise, where the normal
  sampler takes its share of every step.

    python benchmarks/inplace_momentum.py [--sizes 100x1000 1000x1000] [--steps 200] [--rounds 5] [--rev HEAD]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import convsim as cs

ROOT = Path(__file__).resolve().parents[1]


def functional_modules(rev: str):
    """convsim.methods.gradient and .momentum as they were at ``rev``, imported as sibling modules."""
    out = {}
    folder = Path(tempfile.mkdtemp(prefix="convsim-old-"))
    for name in ("gradient", "momentum"):
        text = subprocess.run(["git", "show", f"{rev}:convsim/methods/{name}.py"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        path = folder / f"{name}.py"
        path.write_text(text.replace("from .gradient import", "from .old_gradient import"))
        spec = importlib.util.spec_from_file_location(f"convsim.methods.old_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        out[name] = module
    return out


def methods(lib, d: int):
    rows = int(np.sqrt(d))
    while d % rows:
        rows -= 1
    g, m = lib["gradient"], lib["momentum"]
    return {
        "heavy-ball": g.HeavyBall(0.1, 0.5), "nesterov": g.Nesterov(0.1),
        "asgd": m.ASGD(0.3, 0.2, 0.05, 0.1), "nag-gs": m.NAGGS(alpha=0.05),
        "stochastic-agd": m.StochasticAGD(0.1, 0.01), "muon": m.Muon(0.01, shape=(rows, d // rows)),
    }


class FixedGradient:
    """A deterministic oracle returning one array: the step's own work, no sampling."""

    rng = None

    def __init__(self, g):
        self.g = g

    def stochastic_grad(self, x):
        return self.g


def step_loop(method, x0, g, steps):
    state, oracle = method.init(x0), FixedGradient(g)
    for t in range(steps):
        state = method.step(state, oracle, t)
    return state


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["100x1000", "1000x1000"], help="replicas x dimension")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--rev", default="HEAD", help="git revision of the functional versions")
    ap.add_argument("--only", nargs="*", default=None, help="method names")
    ap.add_argument("--no-simulate", action="store_true", help="time the steps only")
    a = ap.parse_args(argv)
    old = functional_modules(a.rev)
    new = {"gradient": cs.methods.gradient, "momentum": cs.methods.momentum}
    print(f"numpy {np.__version__}; {a.steps} steps; median of {a.rounds} interleaved rounds (old/new time)")
    print(f"{'R x d':>11} {'method':>15} {'kind':>9} {'old ms':>9} {'new ms':>9} {'old/new':>8}")
    for size in a.sizes:
        R, d = (int(v) for v in size.split("x"))
        rng = np.random.default_rng(0)
        x0, g = rng.normal(size=(R, d)), 0.01 * rng.normal(size=(R, d))
        problem = cs.problems.Quadratic(np.geomspace(1.0, 0.01, d), noise=cs.noise.Gaussian(0.1))
        olds, news = methods(old, d), methods(new, d)
        kinds = {"step": lambda m: step_loop(m, x0, g, a.steps)}
        if not a.no_simulate:
            kinds["simulate"] = lambda m: cs.simulate(problem, m, a.steps, R, record=[a.steps], threads=1)
        for name in olds:
            if a.only and name not in a.only:
                continue
            for kind, run in kinds.items():
                run(olds[name]), run(news[name])  # warm-up (allocator, caches)
                times = {"old": [], "new": []}
                for r in range(a.rounds):
                    order = ("old", "new") if r % 2 == 0 else ("new", "old")
                    for which in order:
                        m = olds[name] if which == "old" else news[name]
                        t0 = time.perf_counter()
                        run(m)
                        times[which].append(time.perf_counter() - t0)
                ratios = [o / n for o, n in zip(times["old"], times["new"])]
                print(f"{size:>11} {name:>15} {kind:>9} {1e3 * statistics.median(times['old']):9.1f} "
                      f"{1e3 * statistics.median(times['new']):9.1f} {statistics.median(ratios):8.2f}", flush=True)


if __name__ == "__main__":
    main()
