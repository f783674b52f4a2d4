"""Simulated distributed optimization: workers as an array axis of shape (replicas, workers, d).

* :class:`WorkerQuadratics` — M heterogeneous quadratics with controllable heterogeneity ζ² and
  noise σ²;
* methods: :class:`LocalSGD` (FedAvg with H local steps), :class:`GossipSGD` (D-SGD over a graph);
* :mod:`.graphs` — ring, torus, complete and Erdős–Rényi mixing matrices with their spectral gaps;
* :mod:`.compression` — top-k, random-k and 8-bit compressors, :class:`CompressedSGD` with or
  without error feedback;
* :func:`worker_moments` — exact mean/second-moment recursions of local SGD and D-SGD.
"""

from . import graphs
from .compression import CompressedSGD, EightBit, RandomK, TopK
from .exact import worker_moments
from .methods import GossipSGD, LocalSGD, WorkerState
from .problems import WorkerQuadratics

REGISTRY = {cls.name: cls for cls in (LocalSGD, GossipSGD, CompressedSGD)}
"""Distributed methods by name (for ``convsim methods``)."""

__all__ = ["WorkerQuadratics", "LocalSGD", "GossipSGD", "CompressedSGD", "TopK", "RandomK", "EightBit",
           "WorkerState", "graphs", "worker_moments", "REGISTRY"]
