"""Simulated distributed optimization: workers as an array axis of shape (replicas, workers, d).

* :class:`WorkerQuadratics` — M heterogeneous quadratics with controllable heterogeneity ζ² and
  noise σ²;
* methods: :class:`LocalSGD` (FedAvg with H local steps), :class:`GossipSGD` (D-SGD over a graph);
* :mod:`.graphs` — ring, torus, complete and Erdős–Rényi mixing matrices with their spectral gaps;
* :mod:`.compression` — top-k, random-k and 8-bit compressors, :class:`CompressedSGD` with or
  without error feedback;
* :func:`worker_moments` — exact mean/second-moment recursions of local SGD and D-SGD;
* :mod:`.aggregators` — robust aggregation (coordinate-wise median, trimmed mean, Krum, nearest-neighbour
  averaging / NNM pre-aggregation);
* :mod:`.byzantine` — Byzantine attacks (sign flip, large constant, "a little is enough") and
  :class:`MoNNA` (momentum + nearest-neighbour averaging), with its exact law while honest models agree;
* :class:`SRRWSGD` — token SGD driven by a (self-repellent) random walk over the workers.
"""

from . import aggregators, graphs
from .byzantine import ALittleIsEnough, LargeConstant, MoNNA, SignFlip
from .compression import CompressedSGD, EightBit, RandomK, TopK
from .exact import worker_moments
from .methods import GossipSGD, LocalSGD, WorkerState
from .problems import WorkerQuadratics
from .random_walk import SRRWSGD

REGISTRY = {cls.name: cls for cls in (LocalSGD, GossipSGD, CompressedSGD, MoNNA, SRRWSGD)}
"""Distributed methods by name (for ``convsim methods``)."""

__all__ = ["WorkerQuadratics", "LocalSGD", "GossipSGD", "CompressedSGD", "TopK", "RandomK", "EightBit",
           "WorkerState", "graphs", "worker_moments", "REGISTRY", "aggregators", "MoNNA", "SignFlip", "LargeConstant",
           "ALittleIsEnough", "SRRWSGD"]
