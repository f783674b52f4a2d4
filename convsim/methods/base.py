"""The method protocol: ``init``/``step`` pairs over an explicit batched state.

A method is a frozen description of an algorithm (hyperparameters only).
``init(x0)`` builds its state from the starting iterates ``x0`` of shape
``(R, d)``; ``step(state, oracle, t)`` returns the next state, where ``t`` counts
completed steps and ``oracle`` gives (stochastic) first- and second-order
information at any batch of points.  ``point(state)`` is the iterate whose metrics
are recorded (the average, for averaging wrappers).  States are NamedTuples of
arrays, so they can be inspected, copied and checkpointed.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from ..errors import ConvsimError
from ..schedules import as_schedule


class Oracle:
    """First- and second-order information about a problem, with a random stream."""

    __slots__ = ("problem", "rng")

    def __init__(self, problem, rng):
        self.problem = problem
        self.rng = rng

    def grad(self, x):
        """Exact gradient (deterministic methods use this)."""
        return self.problem.grad(x)

    def stochastic_grad(self, x):
        """Stochastic gradient from the problem's noise model."""
        return self.problem.stochastic_grad(x, self.rng)

    def same_sample_grads(self, x, move):
        """Stochastic gradients ĝ_ξ(x) and ĝ_ξ(y), y = ``move(ĝ_ξ(x))``, from ONE sample ξ.

        Two-point methods (SAM and its variants) evaluate one minibatch at two points.
        The first call draws from the run's stream while recording the draws; the
        second replays them (and the stream's sampling scratch, e.g. an epoch position),
        so any problem gets the same minibatch or noise draw at ``y`` without knowing.
        Returns ``(ĝ(x), y, ĝ(y))``.
        """
        recorder = _RecordingStream(self.rng)
        g = self.problem.stochastic_grad(x, recorder)
        y = move(g)
        return g, y, self.problem.stochastic_grad(y, recorder.replay())

    def stochastic_value_and_grad(self, x):
        """The minibatch loss f_ξ(x) and its gradient ∇f_ξ(x) on ONE sample ξ (Polyak step sizes need both).

        Needs the problem's ``stochastic_value_and_grad(x, rng)`` (finite sums have it).
        """
        own = getattr(self.problem, "stochastic_value_and_grad", None)
        if own is None:
            raise ConvsimError(f"problem {self.problem.name!r} has no minibatch loss; Polyak step sizes need one "
                               "(a finite sum, or a problem with stochastic_value_and_grad)")
        return own(x, self.rng)

    def same_sample_values_and_grads(self, x, move):
        """``(f_ξ(x), ∇f_ξ(x), y, f_ξ(y), ∇f_ξ(y))``, y = ``move(∇f_ξ(x))``, from ONE minibatch ξ
        (the record/replay of :meth:`same_sample_grads`; step-acceptance tests such as SMB's need the loss too)."""
        own = getattr(self.problem, "stochastic_value_and_grad", None)
        if own is None:
            raise ConvsimError(f"problem {self.problem.name!r} has no minibatch loss; a same-minibatch acceptance "
                               "test needs one (a finite sum, or a problem with stochastic_value_and_grad)")
        recorder = _RecordingStream(self.rng)
        f, g = own(x, recorder)
        y = move(g)
        f_y, g_y = own(y, recorder.replay())
        return f, g, y, f_y, g_y

    def hvp(self, x, v):
        return self.problem.hvp(x, v)

    def value(self, x):
        return self.problem.value(x)


_DRAWS = frozenset({"normal", "uniform", "gamma", "gamma_of", "beta_of", "rademacher", "integers"})


class _RecordingStream:
    """Passes draws through from a :class:`~convsim.random.ReplicaStreams` and keeps copies of them."""

    def __init__(self, rng):
        self._rng, self._draws = rng, []
        self._scratch = dict(rng.scratch)  # sampling state before the draw, for the replay

    def __getattr__(self, name):
        attr = getattr(self._rng, name)
        if name not in _DRAWS:
            return attr

        def draw(*args):
            out = attr(*args)
            self._draws.append(self._rng.xp.asarray(out, copy=True))  # streams reuse their buffers
            return out

        return draw

    def replay(self):
        return _ReplayedStream(self._rng, self._draws, self._scratch)


class _ReplayedStream:
    """Returns the recorded draws again, in order, with the recorded sampling scratch."""

    def __init__(self, rng, draws, scratch):
        self._rng, self._draws, self.scratch = rng, iter(draws), dict(scratch)

    def __getattr__(self, name):
        if name not in _DRAWS:
            return getattr(self._rng, name)

        def draw(*args):
            recorded = next(self._draws, None)
            if recorded is None:
                raise ConvsimError("the problem drew more random numbers at the second point than at the first")
            return self._rng.xp.asarray(recorded, copy=True)  # callers may scale draws in place

        return draw


class Method:
    """Base class: subclasses are frozen dataclasses of hyperparameters."""

    name: str = "method"
    description: str = ""
    source: str = ""

    def init(self, x0) -> NamedTuple:
        raise NotImplementedError

    def _require_inner_method(self):
        """Wrappers: a one-line error unless ``self.inner`` is a convsim method."""
        if not isinstance(getattr(self, "inner", None), Method):
            raise ConvsimError(f"{type(self).__name__} wraps a convsim method, got {getattr(self, 'inner', None)!r}")

    def _schedule_step_size(self):
        """Turn a numeric ``step_size`` field into a constant schedule (validating it)."""
        object.__setattr__(self, "step_size", as_schedule(self.step_size))

    def step(self, state, oracle: Oracle, t: int) -> NamedTuple:
        raise NotImplementedError

    def point(self, state):
        return state.x

    def spec(self) -> dict[str, Any]:
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"name": self.name, **{k: (v.spec() if isinstance(v, Method) else repr(v)) for k, v in fields.items()}}
