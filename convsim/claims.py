"""Claims: a cited statement, the experiment that tests it, and the check that decides it.

A claim file under ``experiments/`` defines one or more :class:`Claim` objects at
module level; :func:`discover` imports every such file and collects them.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import os
import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .checks.verdict import VERDICTS, Verdict
from .engine.simulate import simulate
from .engine.sweep import Sweep, sweep
from .engine.trace import Trace
from .errors import ConvsimError, require
from .mutations import Mutation, MutationResult
from .store import ResultStore, file_digest, fingerprint

FAMILIES = ("first-order", "nonconvex", "sde", "bilevel", "bandit", "online", "zeroth-order", "privacy",
            "distributed", "other")


@dataclass(frozen=True)
class Source:
    """Where a claim comes from: a paper on arXiv, a journal article or book (``venue``, ``doi``), or a page (``url``).

    ``arxiv`` is an identifier such as ``2301.11235``; a text starting with ``n/a`` (the old
    way of saying "not on arXiv") is read as the venue."""

    title: str
    arxiv: str = ""
    theorem: str = ""
    doi: str = ""
    url: str = ""
    venue: str = ""

    def __post_init__(self):
        require(bool(self.title), "a source needs a title")
        if self.arxiv.startswith("n/a"):
            object.__setattr__(self, "venue", self.venue or self.arxiv[3:].strip(" ()"))
            object.__setattr__(self, "arxiv", "")
        require(not self.arxiv or bool(_ARXIV.match(self.arxiv)),
                f"arXiv id {self.arxiv!r} is not of the form 2301.11235 (or math/0501234); use doi=, url= or venue=")
        require(not self.doi or self.doi.startswith("10."), f"a DOI starts with '10.', got {self.doi!r}")
        require(bool(self.arxiv or self.doi or self.url or self.venue),
                f"source {self.title!r}: give an arXiv id, a DOI, a URL or a venue")

    def cite(self) -> str:
        where = [f"arXiv:{self.arxiv}"] if self.arxiv else []
        where += [self.venue] if self.venue else []
        where += [f"doi:{self.doi}"] if self.doi else []
        where += [self.url] if self.url else []
        return f"{self.title} ({'; '.join(where)})" + (f", {self.theorem}" if self.theorem else "")


_ARXIV = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?$")


@dataclass
class Context:
    """How a claim's experiment runs: backend, seed, replica override, result cache."""

    backend: str = "numpy"
    dtype: str = "float64"
    seed: int = 0
    replicas: int | None = None
    store: ResultStore | None = None
    use_cache: bool = True
    progress: bool = False
    mutation: Mutation | None = None
    mutation_hits: int = 0
    claim_source: str = ""
    claim_id: str = ""
    chunk_size: int | None = None
    runs_used: list = field(default_factory=list)
    executor: Any = None
    threads: int | None = None
    """Chunks a first-order run computes at once (None: the engine's default, the usable cores); a
    worker of ``--jobs N`` takes its share of the cores.  Like the executor, no part of a result's key."""
    runs: dict = field(default_factory=dict, repr=False)
    """Runs of this invocation by claim file (its source digest), then by key: one file at a time (see :meth:`cached`)."""

    def mutate(self, obj):
        """``obj`` under this context's mutation (itself when there is none).

        The simulators below call this on every object they are given; an experiment that
        runs its own closure through :meth:`cached` calls it on the objects under test.
        """
        if self.mutation is None:
            return obj
        new, hits = self.mutation.apply(obj)
        self.mutation_hits += hits
        return new

    def experiment(self, experiment: Callable[[dict, "Context"], Any], settings: dict):
        """``experiment(settings, self)``, computed once per invocation for a claim and the controls and
        companions that share its experiment function and settings (a control would otherwise redo
        the parent's uncached work: exact references, quadratures, ...).  Remembered like the runs,
        for one claim file at a time; each caller gets its own deep copy; never under a mutation."""
        if self.mutation is not None or not self.claim_source:
            return experiment(settings, self)
        try:
            key = ("experiment", experiment, fingerprint({"settings": settings, "replicas": self.replicas,
                                                          "backend": self.backend, "dtype": self.dtype,
                                                          "seed": self.seed, "use_cache": self.use_cache}))
        except ConvsimError:  # settings that cannot be keyed by content: computed every time
            return experiment(settings, self)
        memory = self._file_memory()
        if key not in memory:
            first = len(self.runs_used)
            memory[key] = (experiment(settings, self), self.runs_used[first:])
        data, used = memory[key]
        self.runs_used.extend(u for u in used if u not in self.runs_used)
        return copy.deepcopy(data)

    def _file_memory(self) -> dict:
        """What this invocation remembers of the current claim file (runs, experiment results); a file
        switch forgets the previous file's (a context used outside claims remembers nothing)."""
        if not self.claim_source:
            return {}
        memory = self.runs.get(self.claim_source)
        if memory is None:
            self.runs.clear()
            memory = self.runs[self.claim_source] = {}
        return memory

    def simulate(self, problem, method, steps, replicas, **kw) -> Trace:
        """:func:`convsim.simulate` with this context's settings, reusing stored results."""
        replicas = self.replicas or replicas
        kw.setdefault("seed", self.seed)
        before = self.mutation_hits
        problem, method = self.mutate(problem), self.mutate(method)
        config = {"simulator": "simulate", "problem": problem, "method": method, "steps": steps, "replicas": replicas}
        self._chunking(kw)
        spread = self.spread(kw)
        return self._cached(config, kw, lambda: simulate(problem, method, steps, replicas, backend=self.backend,
                                                         dtype=self.dtype, progress=self.progress, **spread, **kw),
                            mutated=self.mutation_hits > before)

    def simulate_sde(self, sde, solver, x0, t1, dt, paths, **kw) -> Trace:
        """:func:`convsim.sde.simulate_sde` with this context's settings, reusing stored results."""
        from .sde import simulate_sde

        paths = self.replicas or paths
        kw.setdefault("seed", self.seed)
        before = self.mutation_hits
        sde, solver = self.mutate(sde), self.mutate(solver)
        config = {"simulator": "sde", "sde": sde, "solver": solver, "x0": np.asarray(x0, dtype=np.float64), "t1": t1,
                  "dt": dt, "paths": paths}
        self._chunking(kw)
        spread = self.spread(kw)
        return self._cached(config, kw, lambda: simulate_sde(sde, solver, x0, t1, dt, paths, backend=self.backend,
                                                             dtype=self.dtype, **spread, **kw),
                            mutated=self.mutation_hits > before)

    def simulate_bandit(self, env, learner, rounds, replicas, **kw) -> Trace:
        """:func:`convsim.bandits.simulate_bandit` with this context's settings, reusing stored results."""
        from .bandits import simulate_bandit

        replicas = self.replicas or replicas
        kw.setdefault("seed", self.seed)
        before = self.mutation_hits
        env, learner = self.mutate(env), self.mutate(learner)
        config = {"simulator": "bandit", "environment": env, "learner": learner, "rounds": rounds,
                  "replicas": replicas}
        self._chunking(kw)
        spread = self.spread(kw)
        return self._cached(config, kw, lambda: simulate_bandit(env, learner, rounds, replicas, backend=self.backend,
                                                                dtype=self.dtype, **spread, **kw),
                            mutated=self.mutation_hits > before)

    def spread(self, kw: dict) -> dict:
        """How a run spreads its work, taken out of ``kw``: the context's executor, or else its chunk
        threads (where set).  It only spreads the work, so it is no part of the result's key; a
        simulator run through :meth:`cached` passes it on (``simulate_x(..., **ctx.spread(kw))``)."""
        spread = {"executor": kw.pop("executor", self.executor)}
        threads = kw.pop("threads", self.threads)
        if threads is not None and spread["executor"] is None:
            spread["threads"] = threads
        return spread

    def _chunking(self, kw: dict) -> None:
        """The context's chunk size (CLI ``--chunk-size``) where a run does not set its own."""
        if self.chunk_size is not None:
            kw.setdefault("chunk_size", self.chunk_size)

    def cached(self, config: dict, run: Callable[[], Trace], **kw) -> Trace:
        """Run ``run()`` once per distinct ``config`` (what determines the result) and store it.

        The hook for simulators beyond the three above (bilevel, online learning, ...):
        ``config`` must name everything the trace depends on (problems, methods, arrays,
        functions: all are keyed by content, see :func:`convsim.store.canonical`); the
        context's backend, dtype, claim file and ``kw`` (seed, record, ...) are added to the key.
        A simulator that can split its replicas takes ``**ctx.spread(kw)`` (executor or threads)
        inside ``run``, never in ``kw`` (it only spreads the work).

        Within one claim file a run is computed once per invocation, also under ``--no-cache``
        (``use_cache=False``): a negative control, a sharp companion or a mutation's untouched
        side gets a copy of the run its claim made, kept in memory until the context runs a
        claim of another file.
        """
        kw.setdefault("seed", self.seed)
        return self._cached(config, kw, run)

    def _cached(self, config: dict, kw: dict, run: Callable[[], Trace], mutated: bool | None = None) -> Trace:
        # The mutated objects' content is in the key already; the mutation's name is added too where
        # it may have changed what the run depends on (always, for a closure run through `cached`),
        # so a mutated run never shares a key with the true one, while a run it did not touch (the
        # other side of a comparison) is reused.
        if self.mutation is not None and (mutated if mutated is not None else self.mutation_hits > 0):
            config = {**config, "mutation": self.mutation.name}
        config = {**config, "backend": self.backend, "dtype": self.dtype, "claim_source": self.claim_source,
                  "options": kw}
        key = fingerprint(config)
        memory = self._file_memory()
        if key in memory:
            trace, where = memory[key]
            if where is not None:
                self.runs_used.append(where)
            return _copy(trace)
        trace = None
        if self.store is not None and self.use_cache:
            trace = self.store.load(key)
            where = None if trace is None else str(self.store.path(key))
        if trace is None:
            trace = run()
            if self.claim_id:
                trace.meta["claim"] = self.claim_id
            where = None if self.store is None else str(self.store.save(key, trace))
        if where is not None:
            self.runs_used.append(where)
        memory[key] = (_copy(trace), where)
        return trace

    def memo(self, config: dict, run: Callable[[], Any], **kw) -> Any:
        """``run()`` once per distinct ``config`` in this process, for results that are not a Trace
        (a dict of Series, a table): claims of one file that share such an experiment compute it
        once.  Keyed like :meth:`cached` (content, code, claim file, mutation); kept in memory only."""
        kw.setdefault("seed", self.seed)
        key = fingerprint({**config, "backend": self.backend, "dtype": self.dtype, "claim_source": self.claim_source,
                           "mutation": None if self.mutation is None else self.mutation.name, "options": kw,
                           "replicas": self.replicas})
        if key not in _MEMO:
            _MEMO[key] = run()
        return _MEMO[key]

    def sweep(self, run: Callable[..., Trace], grid: dict) -> Sweep:
        return sweep(run, grid)


_MEMO: dict = {}
"""Results of :meth:`Context.memo` in this process, by key."""


def _copy(trace: Trace) -> Trace:
    """A trace whose arrays and dictionaries are its own, as a fresh load from the store would be: an
    experiment that edits what it is given never changes the run another claim reuses."""
    return Trace(trace.steps.copy(), {k: v.copy() for k, v in trace.metrics.items()}, trace.diverged_at.copy(),
                 dict(trace.constants), dict(trace.meta))


@dataclass
class Outcome:
    claim: "Claim"
    verdict: Verdict
    data: Any
    settings: dict
    seconds: float

    @property
    def as_expected(self) -> bool:
        return self.verdict.verdict == self.claim.expected

    def __repr__(self):
        mark = "as expected" if self.as_expected else f"expected {self.claim.expected}"
        return f"Outcome({self.claim.id}: {self.verdict.verdict}, {mark}, {self.seconds:.2f}s; {self.verdict!r})"

    def _repr_html_(self):
        return f"<p><b>{self.claim.id}</b> ({self.claim.source.cite()})</p>{self.verdict._repr_html_()}"


@dataclass
class Claim:
    """A testable statement from a paper.

    ``experiment(settings, ctx)`` returns the data (a Trace, a Sweep or a dict of
    Traces) and ``check(data, settings)`` returns the :class:`Verdict`.  ``quick``
    and ``full`` are the experiment's settings for a fast run and a careful one.
    A negative control (:meth:`negative_control`) shares the experiment and states
    something deliberately wrong; its expected verdict is ``violated``.
    """

    id: str
    family: str
    statement: str
    source: Source
    assumptions: tuple[str, ...]
    experiment: Callable[[dict, Context], Any]
    check: Callable[[Any, dict], Verdict]
    quick: dict
    full: dict
    expected: str = "consistent"
    negative_of: str | None = None
    mutations: tuple[Mutation, ...] = ()
    sharpens: str | None = None
    min_replicas: int = 1
    needs_float64: str = ""
    module: str = field(default="", compare=False)

    def __post_init__(self):
        require(self.family in FAMILIES, f"claim {self.id!r}: unknown family {self.family!r}")
        require(self.expected in VERDICTS, f"claim {self.id!r}: unknown expected verdict {self.expected!r}")
        self.mutations = tuple(self.mutations)
        for m in self.mutations:
            require(isinstance(m, Mutation), f"claim {self.id!r}: mutations must be convsim.mutations objects, got {m!r}")
        names = [m.name for m in self.mutations]
        require(len(set(names)) == len(names), f"claim {self.id!r}: two mutations share a name")

    def negative_control(self, statement: str, check: Callable, *, suffix: str = "neg") -> "Claim":
        """The same experiment against a deliberately wrong statement (expected: violated).

        A control declares no mutations of its own (the true claim carries them) and
        sharpens nothing."""
        return replace(self, id=f"{self.id}-{suffix}", statement=statement, check=check, expected="violated",
                       negative_of=self.id, mutations=(), sharpens=None)

    def settings(self, quick: bool) -> dict:
        return dict(self.quick if quick else self.full)

    def run(self, ctx: Context, quick: bool = True) -> Outcome:
        """Run the experiment and the check.  ``min_replicas`` and ``needs_float64`` (the reason a
        claim cannot be decided in float32) turn an override the claim cannot honour into a
        one-line error instead of a wrong or crashing run."""
        require(ctx.replicas is None or ctx.replicas >= self.min_replicas,
                f"claim {self.id!r} needs at least {self.min_replicas} replicas, got --replicas {ctx.replicas}")
        require(ctx.dtype != "float32" or not self.needs_float64,
                f"claim {self.id!r} needs float64: {self.needs_float64}")
        s = self.settings(quick)
        if self.module:  # the claim file's source is part of every key of its runs
            ctx.claim_source = file_digest(self.module)
        ctx.claim_id = self.negative_of or self.id  # a control shares its claim's runs
        began = time.perf_counter()
        data = ctx.experiment(self.experiment, s)
        verdict = self.check(data, s)
        return Outcome(self, verdict, data, s, time.perf_counter() - began)

    def run_mutated(self, ctx: Context, mutation: Mutation, quick: bool = True) -> MutationResult:
        """Run the experiment with ``mutation`` planted, under the unchanged check.

        ``caught`` is true when the verdict differs from the claim's expected one.  A
        mutation that rewrites nothing in the run, or a run that fails, is an error (never
        a catch)."""
        mctx = replace(ctx, mutation=mutation, mutation_hits=0)
        try:
            outcome = self.run(mctx, quick=quick)
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # a mutation that crashes the run is reported, never counted as a catch
            kind = "" if isinstance(exc, ConvsimError) else f"{type(exc).__name__}: "
            first = (str(exc).strip().splitlines() or [""])[0]
            return MutationResult(mutation.name, mutation.expect, "error", False, mutation.why,
                                  error=f"the mutated run failed: {kind}{first}")
        if mctx.mutation_hits == 0:
            return MutationResult(mutation.name, mutation.expect, "error", False, mutation.why,
                                  error=f"mutation {mutation.name!r} changed nothing in the run of {self.id!r}")
        v = outcome.verdict
        return MutationResult(mutation.name, mutation.expect, v.verdict, v.verdict != self.expected, mutation.why,
                              reason=v.reason)


ENTRY_POINT_GROUP = "convsim.claims"
"""Third-party claim packages register here (``[project.entry-points."convsim.claims"]``): each entry
names a package whose folder holds claim files, or a module defining claims itself."""


def catalogue_dir() -> Path | None:
    """The shipped catalogue: the repository's ``experiments/`` in a checkout, else the copy the wheel
    installs as ``convsim/experiments``."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "experiments", here / "experiments"):
        if candidate.is_dir() and any(candidate.rglob("*.py")):
            return candidate
    return None


def plugin_dirs() -> list[Path]:
    """Folders of the claim packages registered through the ``convsim.claims`` entry-point group."""
    from importlib.metadata import entry_points

    dirs = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            target = ep.load()
        except Exception as exc:
            raise ConvsimError(f"claim plugin {ep.name!r} ({ep.value}) cannot be loaded: "
                               f"{type(exc).__name__}: {exc}") from None
        paths = list(getattr(target, "__path__", []))  # a package: its folder
        if not paths and getattr(target, "__file__", None):
            paths = [target.__file__]  # a module: the file itself
        require(bool(paths), f"claim plugin {ep.name!r} names {ep.value}, which is neither a package nor a module")
        dirs += [Path(p) for p in paths]
    return dirs


def experiment_dirs() -> list[Path]:
    """Where claims come from: ``$CONVSIM_EXPERIMENTS``, then registered plugins, then the catalogue."""
    dirs = [Path(p) for p in os.environ.get("CONVSIM_EXPERIMENTS", "").split(os.pathsep) if p]
    dirs += plugin_dirs()
    shipped = catalogue_dir()
    if shipped is not None:
        dirs.append(shipped)
    return dirs


def discover(dirs: list[Path] | None = None) -> dict[str, Claim]:
    """Import every ``*.py`` under the folders (or the files given) and collect their claims by id."""
    claims: dict[str, Claim] = {}
    for root in dirs if dirs is not None else experiment_dirs():
        root = Path(root)
        require(root.exists(), f"experiment folder {root} does not exist")
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            if path.name.startswith("_"):
                continue
            for claim in _claims_in(path):
                if claim.id in claims:
                    raise ConvsimError(f"claim id {claim.id!r} is defined twice ({claims[claim.id].module}, {path})")
                claims[claim.id] = claim
    return claims


def _claims_in(path: Path) -> list[Claim]:
    # unique per file, so a user's myclaims/first_order/sps.py never hides the catalogue's file of that name
    tag = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"convsim_experiments.{path.stem.replace('-', '_')}_{tag}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise ConvsimError(f"cannot load claim file {path}: {type(exc).__name__}: {exc}") from None
    module = sys.modules[name]
    found = [v for v in vars(module).values() if isinstance(v, Claim)]
    file_reason = getattr(module, "NEEDS_FLOAT64", "")  # a file whose claims are decided in float64 only
    for c in found:
        c.module = str(path)
        if file_reason and not c.needs_float64:
            c.needs_float64 = file_reason
    return found


def select(claims: dict[str, Claim], ids=(), families=(), every=False) -> list[Claim]:
    """Claims by id and/or family; a one-line error for unknown names."""
    for i in ids:
        if i not in claims:
            import difflib

            near = difflib.get_close_matches(i, list(claims), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise ConvsimError(f"unknown claim {i!r}{hint} (`convsim list` shows the {len(claims)} known claims)")
    for f in families:
        require(f in FAMILIES, f"unknown family {f!r}; families: {', '.join(FAMILIES)}")
    if every:
        require(bool(claims), "no claims found: the catalogue is not installed and $CONVSIM_EXPERIMENTS is empty")
        return list(claims.values())
    chosen = [claims[i] for i in ids] + [c for c in claims.values() if c.family in families and c.id not in ids]
    require(bool(chosen), "say which claims to run: claim ids, --family NAME or --all")
    return chosen
