"""Simulated distributed optimization: workers as an array axis of shape (replicas, workers, d).

* :class:`WorkerQuadratics` — M heterogeneous quadratics with controllable heterogeneity ζ² and
  noise σ²;
* methods: :class:`LocalSGD` (FedAvg with H local steps), :class:`GossipSGD` (D-SGD over a graph);
* :mod:`.graphs` — ring, torus, complete and Erdős–Rényi mixing matrices with their spectral gaps;
* :mod:`.compression` — top-k, random-k and 8-bit compressors, :class:`CompressedSGD` with or
  without error feedback, and :class:`PowerSGD` (rank-r low-rank compression of matrix updates);
* :func:`worker_moments` — exact mean/second-moment recursions of local SGD and D-SGD;
* :mod:`.aggregators` — robust aggregation (coordinate-wise median, trimmed mean, Krum, nearest-neighbour
  averaging / NNM pre-aggregation);
* :mod:`.byzantine` — Byzantine attacks (sign flip, large constant, "a little is enough") and
  :class:`MoNNA` (momentum + nearest-neighbour averaging), with its exact law while honest models agree;
* :class:`SRRWSGD` — token SGD driven by a (self-repellent) random walk over the workers;
* :class:`AsyncFedSGD` — asynchronous federated SGD (speed-proportional arrivals, stale updates), exact law
  :func:`async_moments`.
"""

from . import aggregators, graphs
from .asynchronous import AsyncFedSGD, async_moments, reweighted_optimum
from .byzantine import ALittleIsEnough, LargeConstant, MoNNA, SignFlip
from .compression import CompressedSGD, EightBit, PowerSGD, RandomK, TopK, powersgd_step
from .exact import worker_moments
from .methods import GossipSGD, LocalSGD, WorkerState
from .problems import WorkerQuadratics
from .random_walk import SRRWSGD

REGISTRY = {cls.name: cls for cls in (LocalSGD, GossipSGD, CompressedSGD, PowerSGD, MoNNA, SRRWSGD, AsyncFedSGD)}
"""Distributed methods by name (for ``convsim methods``)."""

__all__ = ["WorkerQuadratics", "LocalSGD", "GossipSGD", "CompressedSGD", "TopK", "RandomK", "EightBit",
           "WorkerState", "graphs", "worker_moments", "REGISTRY", "aggregators", "MoNNA", "SignFlip", "LargeConstant",
           "ALittleIsEnough", "SRRWSGD", "PowerSGD", "powersgd_step",
           "AsyncFedSGD", "async_moments", "reweighted_optimum"]
