"""convsim: check whether convergence theorems hold on problems you control."""

from .version import __version__

from . import backend, noise, schedules, spectra  # noqa: E402
from . import bandits, checks, curvature, methods, problems, sde  # noqa: E402
from .engine import Experiment, Series, Sweep, Trace, simulate, simulate_points, sweep  # noqa: E402
from .errors import ConvsimError  # noqa: E402
from .claims import Claim, Context, Source  # noqa: E402
from . import mutations, plot, store  # noqa: E402
from . import bilevel  # noqa: E402
from . import online  # noqa: E402
from . import exact  # noqa: E402
from . import manifolds  # noqa: E402

__all__ = ["__version__", "simulate", "simulate_points", "sweep", "Experiment", "Trace", "Sweep", "Series", "ConvsimError", "Claim", "Context", "Source",
           # subpackages and modules
           "backend", "noise", "schedules", "spectra", "methods", "problems", "checks", "plot", "mutations", "store",
           "sde", "bilevel", "bandits", "online", "exact", "curvature", "engine", "claims", "errors", "random"]
