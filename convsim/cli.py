"""The ``convsim`` command: list claims, methods and problems; verify claims; write a report.

Exit codes: 0 when every verdict equals its expected verdict, 1 otherwise, 2 for
usage errors (unknown names, bad options, a backend that is not available), 3 when a
claim could not run (its record says why; the other claims still run), 130 when
interrupted (the verdicts computed so far are kept in OUT/verdicts.json).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import sys
import time
from pathlib import Path

from .version import __version__
from .errors import ConvsimError

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"convsim: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


EPILOG = """exit codes: 0 every verdict as expected (mutate: and every declared catch happened), 1 some verdict
not as expected, 2 usage error, 3 a claim could not run (the others still run), 130 interrupted.
claims come from $CONVSIM_EXPERIMENTS (folders, separated by ':'), packages registered in the
'convsim.claims' entry-point group, and the shipped catalogue."""


class _Help(argparse.RawDescriptionHelpFormatter):
    """Shows an option's default where it has a meaningful one and the help does not say it already."""

    def _get_help_string(self, action):
        text = action.help or ""
        if action.default not in (None, False, [], argparse.SUPPRESS) and "default" not in text:
            text += " (default: %(default)s)"
        return text


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="convsim", description="Check convergence theorems on problems you control.", epilog=EPILOG,
                formatter_class=_Help)
    p.add_argument("--version", action="version", version=f"convsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name, helptext):
        return sub.add_parser(name, help=helptext, description=helptext, epilog=EPILOG, formatter_class=_Help)

    for name, helptext in (("list", "list the claims"), ("methods", "list the methods"), ("problems", "list the problems")):
        sp = add(name, helptext)
        sp.add_argument("--format", choices=("text", "json"), default="text")
        if name == "list":
            sp.add_argument("--family", action="append", default=[], help="only this family (repeatable)")
            sp.add_argument("--out", default="convsim-results",
                            help="results folder whose latest verdicts flag loose claims (default: convsim-results)")
    for name, helptext in (("verify", "run claims and compare each verdict with the expected one"),
                           ("report", "run claims (reusing stored results) and write a Markdown report"),
                           ("mutate", "run each claim under the mutations it declares and show which it catches")):
        sp = add(name, helptext)
        sp.add_argument("ids", nargs="*", help="claim ids")
        sp.add_argument("--all", action="store_true", help="every claim")
        sp.add_argument("--family", action="append", default=[], help="every claim of this family (repeatable)")
        sp.add_argument("--quick", action="store_true", help="the claims' quick settings")
        sp.add_argument("--backend", default="numpy", help="numpy, torch, torch-cuda, cupy or array_api_strict")
        sp.add_argument("--dtype", default="float64", help="float64 or float32")
        sp.add_argument("--replicas", type=_positive_int, help="override every experiment's replica count")
        sp.add_argument("--seed", type=_seed, default=0, help="base seed of every run")
        sp.add_argument("--chunk-size", type=_positive_int,
                        help="replicas per chunk (rounded to whole blocks of 64; default: fits the CPU cache)")
        sp.add_argument("--out", default="convsim-results", help="folder for runs, figures and reports")
        sp.add_argument("--jobs", type=_positive_int, default=1,
                        help="claims run in this many worker processes (results identical to a serial run)")
        sp.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the claims on the workers of this dask.distributed scheduler (tcp://host:port)")
        if name != "mutate":
            sp.add_argument("--figures", help="folder for figures (default: OUT/figures)")
            sp.add_argument("--no-figures", action="store_true", help="skip the figures")
        sp.add_argument("--no-cache", action="store_true", help="recompute instead of reusing stored runs")
        sp.add_argument("--format", choices=("text", "json", "jsonl"), default="text",
                        help="text lines as each claim finishes, one JSON list at the end, or one JSON object per line")
    sp = add("cache", "inspect or clear the results store")
    sp.add_argument("action", choices=("info", "clear"))
    sp.add_argument("--out", default="convsim-results", help="results folder (default: convsim-results)")
    sp.add_argument("--format", choices=("text", "json"), default="text")
    return p


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        return int(exc.code or 0)
    try:
        return COMMANDS[args.command](args)
    except ConvsimError as exc:
        sys.stderr.write(f"convsim: error: {_one_line(exc)}\n")
        return EXIT_USAGE
    except MemoryError:
        sys.stderr.write("convsim: error: out of memory; use fewer replicas (--replicas) or smaller runs\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("convsim: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()  # `convsim list | head`: the reader left; nothing more to say
        return EXIT_OK


def _silence_stdout():
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _one_line(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else type(exc).__name__


def _emit(args, rows, text_lines):
    if args.format == "json":
        print(json.dumps(rows, indent=2))
    elif args.format == "jsonl":
        for r in rows if isinstance(rows, list) else [rows]:
            print(json.dumps(r))
    else:
        print("\n".join(text_lines))


def cmd_list(args) -> int:
    from .claims import FAMILIES, discover

    for f in args.family:
        if f not in FAMILIES:
            raise ConvsimError(f"unknown family {f!r}; families: {', '.join(FAMILIES)}")
    claims = [c for c in discover().values() if not args.family or c.family in args.family]
    stored = _load_records(Path(args.out), "verdicts.json")

    def latest(c):  # the full-settings record if there is one, else the quick one
        return stored.get(f"{c.id}@full") or stored.get(f"{c.id}@quick")

    rows = []
    for c in claims:
        r = latest(c) or {}
        rows.append({"id": c.id, "family": c.family, "expected": c.expected, "statement": c.statement,
                     "source": c.source.cite(), "negative_of": c.negative_of, "sharpens": c.sharpens,
                     "mutations": [{"name": m.name, "expect": m.expect, "why": m.why} for m in c.mutations],
                     "file": c.module, "tightness": r.get("tightness"), "loose": r.get("loose"),
                     "far_control": r.get("far_control"), "last_verdict": r.get("verdict")})
    width = max((len(c.id) for c in claims), default=0)

    def flag(r):
        return " [loose]" if r["loose"] else " [far control]" if r["far_control"] else ""

    columns = shutil.get_terminal_size().columns if sys.stdout.isatty() else None  # a terminal: one line each

    def line(r):
        text = f"{r['id']:<{width}}  {r['family']:<12} expects {r['expected']:<12} {r['statement']}{flag(r)}"
        return text if columns is None or len(text) <= columns else text[: columns - 1] + "…"

    _emit(args, rows, [line(r) for r in rows])
    return EXIT_OK


def cmd_methods(args) -> int:
    import importlib

    rows = []
    for package in METHOD_PACKAGES:  # the first-order methods, then each family's own
        registry = importlib.import_module(f"convsim.{package}").REGISTRY
        rows += [{"name": n, "package": f"convsim.{package}", "description": c.description, "source": c.source}
                 for n, c in registry.items()]
    width = max(len(r["name"]) for r in rows)
    _emit(args, rows, [f"{r['name']:<{width}}  {r['description']}  [{r['source']}]" for r in rows])
    return EXIT_OK


METHOD_PACKAGES = ("methods", "zeroth_order", "distributed", "privacy", "manifolds")


def cmd_problems(args) -> int:
    from .problems import REGISTRY

    rows = [{"name": n, "description": c.description, "class": f"convsim.problems.{c.__name__}"} for n, c in REGISTRY.items()]
    width = max(len(r["name"]) for r in rows)
    _emit(args, rows, [f"{r['name']:<{width}}  {r['description']}" for r in rows])
    return EXIT_OK


def _tightness_fields(claim, verdict, companions) -> dict:
    """tightness (every record), margin (negative controls) and the loose flag (true claims)."""
    t = verdict.tightness
    loose = (claim.negative_of is None and claim.expected == "consistent" and verdict.verdict == "consistent"
             and verdict.loose and claim.id not in companions)
    return {"tightness": t, "margin": t if claim.negative_of else None, "loose": bool(loose),
            "far_control": bool(claim.negative_of and verdict.loose)}


def _companions(claims) -> set:
    return {c.sharpens for c in claims if c.sharpens}


def _save_records(out: Path, name: str, records: list, quick: bool):
    """Merge records into OUT/<name> (latest per claim and settings), written atomically."""
    path = out / name
    with _locked(out / f".{name}.lock"):  # runs into one OUT may be concurrent: merge under a lock
        try:
            stored = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            stored = {}  # a damaged index is rebuilt, never trusted
        for r in records:
            stored[f"{r['id']}@{'quick' if quick else 'full'}"] = r
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=1, sort_keys=True))
        tmp.replace(path)


class _RecordSink:
    """Records merged into OUT/<name> as they come, written at most every ``interval`` seconds and on
    close (rewriting the whole index after every claim cost O(claims²): most of a catalogue run's
    host time); a run that is interrupted or fails still writes what it has in ``close``."""

    def __init__(self, out: Path, name: str, quick: bool, interval: float = 5.0):
        self.out, self.name, self.quick, self.interval = out, name, quick, interval
        self.pending, self.last = [], time.perf_counter()

    def add(self, record: dict):
        self.pending.append(record)
        if time.perf_counter() - self.last >= self.interval:
            self.flush()

    def flush(self):
        if self.pending:
            _save_records(self.out, self.name, self.pending, self.quick)
            self.pending = []
        self.last = time.perf_counter()

    def close(self):
        self.flush()


@contextlib.contextmanager
def _locked(path: Path):
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform: writes stay atomic, merges may race
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _load_records(out: Path, name: str) -> dict:
    try:
        return json.loads((out / name).read_text())
    except (OSError, ValueError):
        return {}


TABLE_FIELDS = ("id", "family", "expected", "verdict", "as_expected", "estimate", "ci_low", "ci_high", "tightness",
                "tightness_kind", "loose", "far_control", "seconds", "seed", "replicas", "diverged", "backend", "dtype",
                "quick", "versions", "run_files", "figure", "error")
"""Columns of OUT/verdicts.csv, one row per claim run (the latest per claim and settings), and
top-level fields of every JSON record."""


def _table_fields(outcome, runs: list, versions: str) -> dict:
    v = outcome.verdict
    t = v.tightness or {}
    return {"estimate": v.estimate, "ci_low": v.ci[0] if v.ci else None, "ci_high": v.ci[1] if v.ci else None,
            "tightness_kind": t.get("kind"), "replicas": v.replicas, "diverged": v.diverged,
            "versions": versions, "run_files": ";".join(runs)}


def _versions_text(backend: str) -> str:
    from .engine.simulate import run_versions

    return "; ".join(f"{k} {v}" for k, v in run_versions(backend).items())


def _write_table(out: Path):
    """OUT/verdicts.csv from the merged OUT/verdicts.json (CSV: no extra dependency, one pandas call)."""
    import csv

    stored = _load_records(out, "verdicts.json")
    path, tmp = out / "verdicts.csv", out / f".verdicts.csv.{os.getpid()}.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=TABLE_FIELDS, extrasaction="ignore")
        w.writeheader()
        for key in sorted(stored):
            r = dict(stored[key])
            r["tightness"] = (r.get("tightness") or {}).get("value") if isinstance(r.get("tightness"), dict) else None
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in TABLE_FIELDS})
    tmp.replace(path)


@dataclasses.dataclass(frozen=True)
class _Job:
    """What every claim of one invocation shares: picklable, so worker processes rebuild the same context."""

    backend: str
    dtype: str
    seed: int
    replicas: int | None
    out: str
    figures: str | None
    use_cache: bool
    chunk_size: int | None
    quick: bool
    companions: frozenset
    versions: str
    progress: bool = False
    threads: int | None = None

    def context(self):
        from .claims import Context
        from .store import ResultStore

        return Context(backend=self.backend, dtype=self.dtype, seed=self.seed, replicas=self.replicas,
                       store=ResultStore(self.out), use_cache=self.use_cache, progress=self.progress,
                       chunk_size=self.chunk_size, threads=self.threads)


_CATALOGUE: dict = {}


def _claim(claim_id: str):
    """A claim by id, from this process's catalogue (claim files are imported once per process anyway;
    walking the folders again for every claim cost ~20 ms a claim), rediscovered for an unknown id."""
    from .claims import discover

    where = os.environ.get("CONVSIM_EXPERIMENTS", "")
    claims = _CATALOGUE.get(where)
    if claims is None or claim_id not in claims:
        claims = _CATALOGUE[where] = discover()
    return claims[claim_id]


def _verify_one(job: _Job, claim_id: str, ctx=None) -> dict:
    """Run one claim and draw its figure: its record (an error record if it cannot run)."""
    from .plot import rate

    claim = _claim(claim_id)
    ctx = ctx or job.context()
    began = time.perf_counter()
    ctx.runs_used.clear()
    base = {"id": claim.id, "family": claim.family, "expected": claim.expected, "statement": claim.statement,
            "source": claim.source.cite(), "negative_of": claim.negative_of, "quick": job.quick,
            "backend": job.backend, "dtype": job.dtype, "seed": job.seed, "sharpens": claim.sharpens}
    try:
        outcome = claim.run(ctx, quick=job.quick)
        fig_path = None
        if job.figures is not None:
            fig = rate(outcome.data, outcome.verdict, title=f"{claim.id}: {claim.statement}")
            fig_path = Path(job.figures) / f"{claim.id}.png"
            fig.savefig(fig_path, dpi=110)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # one claim that cannot run must not lose the others' verdicts
        return {**base, **_error_record(claim, exc, time.perf_counter() - began), "versions": job.versions}
    return {**base, "verdict": outcome.verdict.verdict, "as_expected": outcome.as_expected, "error": None,
            "evidence": outcome.verdict.to_dict(), "figure": None if fig_path is None else str(fig_path),
            "seconds": round(outcome.seconds, 3), "settings": outcome.settings,
            **_tightness_fields(claim, outcome.verdict, set(job.companions)),
            **_table_fields(outcome, list(ctx.runs_used), job.versions)}


def _serially(fn, job: _Job, ctx, chosen, bar):
    """``fn(job, id, ctx)`` claim by claim in this process, naming each on the progress bar."""
    for c in chosen:
        bar.set_description(c.id)
        yield c.id, fn(job, c.id, ctx)


def _run_group(fn, job: _Job, ids: tuple) -> list:
    _die_once_for_tests()
    ctx = job.context()  # one context per group: a control reuses its claim's run from the store
    return [(i, fn(job, i, ctx)) for i in ids]


def _die_once_for_tests():
    """The test of worker deaths: the first worker to see $CONVSIM_TEST_DIE_ONCE (a path) creates it and dies."""
    marker = os.environ.get("CONVSIM_TEST_DIE_ONCE")
    if marker:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        os._exit(1)


def _groups(claims, ids: list, seconds: dict | None = None) -> list[tuple]:
    """Ids grouped by claim file: claims of one file share experiments (a claim, its controls, its
    companions), which a worker then runs once and reuses from the store or its memory.

    Longest groups first (by ``seconds`` per id from an earlier run, else the number of claims), so
    that no long group starts last while the other workers idle."""
    order, groups = [], {}
    for i in ids:
        key = claims[i].module or i
        if key not in groups:
            order.append(key)
            groups[key] = []
        groups[key].append(i)
    seconds = seconds or {}
    known = [v for v in seconds.values() if v > 0]
    typical = sorted(known)[len(known) // 2] if known else 1.0  # an id never timed counts as a median claim
    cost = {k: sum(seconds.get(i, typical) for i in groups[k]) for k in order}
    return [tuple(groups[k]) for k in sorted(order, key=lambda k: -cost[k])]


def _earlier_seconds(out: Path, quick: bool) -> dict:
    """Seconds per claim id from OUT/verdicts.json (the last verify into OUT), for scheduling only."""
    try:
        stored = json.loads((Path(out) / "verdicts.json").read_text())
        tag = "@quick" if quick else "@full"
        return {r["id"]: float(r.get("seconds") or 0.0) for k, r in stored.items() if k.endswith(tag)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _in_parallel(fn, job: _Job, groups: list, jobs: int, scheduler: str | None = None):
    """``fn(job, id, ctx)`` for every id on ``jobs`` worker processes, group by group (a claim with its
    controls, which reuse its run), yielded as each group finishes.

    A worker that dies (killed, out of memory) is reported and the claims it left unfinished are
    run once more in fresh workers; a claim whose workers die twice comes back as an error."""
    import concurrent.futures as cf
    import multiprocessing

    pending, attempt = list(groups), 0
    died = _worker_died_errors(dask=scheduler is not None)
    threads = str(max(1, (os.cpu_count() or 1) // jobs))
    saved = {k: os.environ.get(k) for k in _BLAS_THREADS}
    os.environ.update({k: threads for k in _BLAS_THREADS})  # no BLAS oversubscription in the workers
    # nor of chunk threads: a local worker takes its share of the cores, a Dask worker one (Dask runs its own)
    job = dataclasses.replace(job, threads=int(threads) if scheduler is None else 1)
    try:
        while pending and attempt < 2:
            attempt += 1
            done = set()
            with _pool(jobs, scheduler) as pool:
                futures = {pool.submit(_run_group, fn, job, g): g for g in pending}
                try:
                    for future in cf.as_completed(futures):
                        results = future.result()  # raises if the group's worker died
                        done.add(futures[future])
                        yield from results
                except died:
                    left = sum(len(g) for g in pending if g not in done)
                    sys.stderr.write(f"convsim: a worker process died; running {left} unfinished claims "
                                     f"{'again' if attempt == 1 else 'no more'}\n")
            pending = [i for i in pending if i not in done]
        for g in pending:
            for i in g:
                yield i, None
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _worker_died_errors(dask: bool) -> tuple:
    """What a pool raises when a worker dies (Dask is imported only when a scheduler was asked for)."""
    import concurrent.futures.process as cfp

    if not dask:
        return (cfp.BrokenProcessPool,)
    from distributed.scheduler import KilledWorker

    return (cfp.BrokenProcessPool, KilledWorker)


@contextlib.contextmanager
def _pool(jobs: int, scheduler: str | None):
    """Local worker processes, or the workers of a dask.distributed scheduler at ``scheduler``."""
    if scheduler is None:
        import concurrent.futures as cf
        import multiprocessing

        with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
        return
    try:
        from distributed import Client
    except ImportError:
        raise ConvsimError("--scheduler needs Dask: pip install 'convsim[dask]'") from None
    try:
        client = Client(scheduler)  # waits distributed.comm.timeouts.connect (Dask's default: 30 s)
    except OSError as exc:
        raise ConvsimError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield client.get_executor()


def _job(args, claims) -> _Job:
    out = _folder(args.out, "--out")
    figures = None
    if not getattr(args, "no_figures", True):
        figures = _folder(args.figures, "--figures") if args.figures else _folder(out / "figures", "--out")
    return _Job(args.backend, args.dtype, args.seed, args.replicas, str(out), None if figures is None else str(figures),
                not args.no_cache, args.chunk_size, bool(args.quick), frozenset(_companions(claims.values())),
                _versions_text(args.backend))


def _run(args):
    """Run the chosen claims, yielding each record as it finishes; records are stored as they come."""
    from .backend import dtype_of, namespace
    from .claims import discover, select

    dtype_of(namespace(args.backend), args.dtype)  # unknown or unavailable backend: a one-line error now
    claims = discover()
    chosen = select(claims, args.ids, args.family, args.all)
    job = _job(args, claims)
    out = Path(job.out)
    interactive = sys.stderr.isatty()
    from tqdm.auto import tqdm

    bar = tqdm(total=len(chosen), unit="claim", disable=not interactive, leave=False)
    sink = _RecordSink(out, "verdicts.json", args.quick)
    try:
        if args.jobs > 1 or args.scheduler:
            results = _in_parallel(_verify_one, job, _groups(claims, [c.id for c in chosen],
                                                             _earlier_seconds(out, args.quick)),
                                   args.jobs, args.scheduler)
        else:
            results = _serially(_verify_one, job, dataclasses.replace(job, progress=interactive).context(),
                                chosen, bar)
        for claim_id, record in results:
            if record is None:  # its workers died twice
                record = _died_record(claims[claim_id], job)
            sink.add(record)
            bar.update()
            yield record if not interactive else _with_bar(bar, record)
    finally:
        sink.close()
        bar.close()
        _write_table(out)


def _died_record(claim, job) -> dict:
    reason = f"claim {claim.id!r} could not run: its worker process died twice"
    return {"id": claim.id, "family": claim.family, "expected": claim.expected, "statement": claim.statement,
            "source": claim.source.cite(), "negative_of": claim.negative_of, "quick": job.quick,
            "backend": job.backend, "dtype": job.dtype, "seed": job.seed, "sharpens": claim.sharpens,
            "verdict": "error", "as_expected": False, "error": reason, "evidence": {"reason": reason},
            "figure": None, "seconds": 0.0, "tightness": None, "margin": None, "loose": False, "far_control": False,
            "versions": job.versions}


def _with_bar(bar, record):
    bar.clear()  # the next line is printed above the bar, not through it
    return record


def _folder(path, option: str) -> Path:
    """A folder to write into: created if missing, a one-line error if a file is in the way."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConvsimError(f"{option} {path} is an existing file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConvsimError(f"{option} {path}: cannot create the folder ({exc.strerror or exc})") from None
    return path


def _error_record(claim, exc, seconds) -> dict:
    kind = "" if isinstance(exc, ConvsimError) else f"{type(exc).__name__}: "
    reason = "out of memory" if isinstance(exc, MemoryError) else f"{kind}{_one_line(exc)}"
    return {"verdict": "error", "as_expected": False, "error": f"claim {claim.id!r} could not run: {reason}",
            "evidence": {"reason": f"could not run: {reason}"}, "figure": None, "seconds": round(seconds, 3),
            "tightness": None, "margin": None, "loose": False, "far_control": False}


def _exit_code(records) -> int:
    if any(r.get("error") for r in records):
        return EXIT_ERROR
    return EXIT_OK if all(r["as_expected"] for r in records) else EXIT_MISMATCH


def _tight_text(t) -> str:
    from .checks.verdict import describe_tightness

    return describe_tightness(t).removeprefix("tightness ")


def _verdict_line(r: dict, width: int) -> str:
    if r.get("error"):
        return f"ERR  {r['id']:<{width}} {'error':<12} (expected {r['expected']}) {r['seconds']:7.2f}s  {r['error']}"
    mark = "ok  " if r["as_expected"] else "FAIL"
    flag = " [loose]" if r["loose"] else " [far control]" if r["far_control"] else ""
    what = "margin" if r["negative_of"] else "tightness"
    e = r["evidence"]
    excluded = f"; {e['diverged']} of {e['replicas']} replicas diverged (excluded)" if e.get("diverged") else ""
    return (f"{mark} {r['id']:<{width}} {r['verdict']:<12} (expected {r['expected']}) {r['seconds']:7.2f}s  "
            f"{e['reason']}{excluded}; {what} {_tight_text(r['tightness'])}{flag}")


def _id_width(args) -> int:
    from .claims import discover, select

    return max((len(c.id) for c in select(discover(), args.ids, args.family, args.all)), default=10)


def cmd_verify(args) -> int:
    began = time.perf_counter()
    width = _id_width(args)
    records = []
    for r in _run(args):  # each verdict is printed as it finishes
        records.append(r)
        if args.format == "text":
            print(_verdict_line(r, width), flush=True)
        elif args.format == "jsonl":
            print(json.dumps(r), flush=True)
    bad = sum(not r["as_expected"] for r in records)
    errors = sum(bool(r.get("error")) for r in records)
    summary = (f"{len(records) - bad} of {len(records)} verdicts as expected"
               + (f", {errors} claims could not run" if errors else "") + f" in {time.perf_counter() - began:.1f}s")
    if args.format == "json":
        print(json.dumps(records, indent=2))
    elif args.format == "text":
        print(summary)
    return _exit_code(records)


def cmd_report(args) -> int:
    from .claims import discover

    catalogue = {claim_id: k for k, claim_id in enumerate(discover())}
    # in catalogue order (family folder, file, claim), whatever order the workers finished in
    records = sorted(_run(args), key=lambda r: catalogue.get(r["id"], len(catalogue)))
    out = Path(args.out)
    path = out / "report.md"
    rows = ["# convsim report", "",
            f"{sum(r['as_expected'] for r in records)} of {len(records)} verdicts as expected "
            f"({'quick' if args.quick else 'full'} settings, backend {args.backend}, seed {args.seed}).", "",
            "| claim | family | expected | verdict | estimate | interval | claimed | tightness / margin | "
            "mutations caught | replicas (diverged) | seconds |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    panels = _load_records(out, "mutations.json")
    key = "quick" if args.quick else "full"
    for r in records:
        if r.get("error"):
            rows.append(f"| {r['id']} | {r['family']} | {r['expected']} | **error** | | | | | | | {r['seconds']} |")
            continue
        e = r["evidence"]
        ci = f"[{e['ci'][0]:.4g}, {e['ci'][1]:.4g}]" if e.get("ci") else ""
        est = f"{e['estimate']:.4g}" if isinstance(e.get("estimate"), float) else ""
        claimed = f"{e['claimed']:.4g}" if isinstance(e["claimed"], float) else e["claimed"]
        flag = " **loose**" if r["loose"] else " **far**" if r["far_control"] else ""
        panel, panel_key = _panel_for(panels, r["id"], key)
        caught = _panel_cell(panel) + ("" if panel is None or panel_key == key else f" ({panel_key})")
        rows.append(f"| {r['id']} | {r['family']} | {r['expected']} | **{r['verdict']}** | {est} | {ci} | "
                    f"{claimed} | {_tight_text(r['tightness'])}{flag} | {caught} | {e['replicas']} ({e['diverged']}) | "
                    f"{r['seconds']} |")
    for r in records:
        if r.get("error"):
            rows += ["", f"## {r['id']}", "", f"*{r['statement']}*", "", f"Source: {r['source']}.", "",
                     f"**Could not run**: {r['error']}."]
            continue
        fig = Path(r["figure"]).resolve() if r.get("figure") else None
        if fig is not None:
            try:
                fig = fig.relative_to(path.parent.resolve())
            except ValueError:
                pass
        rows += ["", f"## {r['id']}", "", f"*{r['statement']}*", "", f"Source: {r['source']}.", "",
                 f"Verdict: **{r['verdict']}** (expected {r['expected']}): {r['evidence']['reason']}.", "",
                 f"{'Margin' if r['negative_of'] else 'Tightness'}: {_tight_text(r['tightness'])}"
                 + (" (loose: no sharp companion)" if r["loose"] else "")
                 + (f"; sharpens `{r['sharpens']}`" if r.get("sharpens") else "") + ".", ""]
        panel, panel_key = _panel_for(panels, r["id"], key)
        if panel:
            if panel_key != key:
                rows += [f"Mutation panel at {panel_key} settings (no {key}-settings panel in this folder):", ""]
            rows += ["| mutation | expect | verdict | caught |", "|---|---|---|---|"]
            rows += [f"| {m['name']} | {m['expect']}{' (' + m['why'] + ')' if m['why'] else ''} | {m['verdict']} | "
                     f"{'yes' if m['caught'] else 'no'}{' — ' + m['error'] if m['error'] else ''} |"
                     for m in panel["mutations"]]
            rows.append("")
        if fig is not None:
            rows += [f"![{r['id']}]({fig.as_posix()})"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n")
    if args.format == "json":
        print(json.dumps({"report": str(path), "records": records}, indent=2))
    elif args.format == "jsonl":
        for r in records:
            print(json.dumps(r))
    else:
        print(f"wrote {path}")
    return _exit_code(records)


def _panel_for(panels: dict, claim_id: str, key: str):
    """The claim's mutation panel at these settings, else at the other ones (the report says which)."""
    for k in (key, "full" if key == "quick" else "quick"):
        if f"{claim_id}@{k}" in panels:
            return panels[f"{claim_id}@{k}"], k
    return None, None


def _panel_cell(panel) -> str:
    if not panel:
        return ""
    ms = panel["mutations"]
    due = [m for m in ms if m["expect"] == "caught"]
    text = f"{sum(m['caught'] for m in due)}/{len(due)}"
    blind = len(ms) - len(due)
    return text + (f" (+{blind} blind)" if blind else "")


def cmd_cache(args) -> int:
    from .store import ResultStore

    store = ResultStore(args.out)
    if args.action == "clear":
        removed = store.clear()
        _emit(args, {"folder": args.out, "removed": removed}, [f"removed {removed} stored files from {args.out}"])
        return EXIT_OK
    info = store.info()
    _emit(args, info, [f"{info['folder']}: {info['runs']} stored runs ({info['bytes'] / 1e6:.1f} MB), "
                       f"{info['current']} current, {info['stale_or_damaged']} stale or damaged (recomputed if "
                       f"asked for), {info['temporary']} temporary files"])
    return EXIT_OK


def _mutate_one(job: _Job, claim_id: str, ctx=None) -> dict:
    """One claim's mutation panel: its true run, then one run per declared mutation."""
    claim = _claim(claim_id)
    ctx = ctx or job.context()
    head = {"id": claim.id, "family": claim.family, "expected": claim.expected, "quick": job.quick, "seed": job.seed,
            "backend": job.backend}
    try:
        base = claim.run(ctx, quick=job.quick)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        return {**head, "verdict": "error", "as_expected": False, "ok": False, "unguarded": False, "mutations": [],
                "error": _error_record(claim, exc, 0.0)["error"]}
    results = [claim.run_mutated(ctx, m, quick=job.quick) for m in claim.mutations]
    unguarded = claim.expected == "consistent" and not any(m.expect == "caught" for m in claim.mutations)
    ok = base.as_expected and all(r.ok for r in results) and not unguarded
    return {**head, "error": None, "verdict": base.verdict.verdict, "as_expected": base.as_expected, "ok": ok,
            "unguarded": unguarded, "mutations": [r.to_dict() for r in results]}


def _panel_lines(r: dict, width: int) -> list[str]:
    if r["error"]:
        return [f"ERR  {r['id']:<{width}} {r['error']}"]
    head = f"{'ok  ' if r['ok'] else 'FAIL'} {r['id']:<{width}} {r['verdict']:<12}"
    if r["unguarded"]:
        return [f"{head} declares no mutation it must catch"]
    if not r["mutations"]:
        return [f"{head} (expected {r['expected']}; no mutations declared)"]
    lines = []
    for m in r["mutations"]:
        status = ("ERROR " + m["error"]) if m["error"] else ("caught" if m["caught"] else "missed") + f" ({m['verdict']})"
        if m["expect"] == "blind":
            status = f"blind: {status}; {m['why']}"
        lines.append(f"{head} {m['name']:<36} {status}")
        head = " " * len(head)
    return lines


def cmd_mutate(args) -> int:
    """Every declared mutation of every chosen claim: exit 0 iff every expected catch happens."""
    from .backend import dtype_of, namespace
    from .claims import discover, select
    from tqdm.auto import tqdm

    began = time.perf_counter()
    dtype_of(namespace(args.backend), args.dtype)
    claims = discover()
    chosen = [c for c in select(claims, args.ids, args.family, args.all) if c.negative_of is None]
    args.no_figures = True
    job = _job(args, claims)
    width = max((len(c.id) for c in chosen), default=10)
    interactive = sys.stderr.isatty()
    bar = tqdm(total=len(chosen), unit="claim", disable=not interactive, leave=False)
    if args.jobs > 1 or args.scheduler:
        earlier = _earlier_seconds(Path(job.out), job.quick)  # a mutated claim runs once per mutation too
        weighted = {c.id: earlier[c.id] * (1 + len(c.mutations)) for c in chosen if c.id in earlier}
        results = _in_parallel(_mutate_one, job, _groups(claims, [c.id for c in chosen], weighted),
                               args.jobs, args.scheduler)
    else:
        results = _serially(_mutate_one, job, job.context(), chosen, bar)
    records = []
    sink = _RecordSink(Path(job.out), "mutations.json", args.quick)
    try:
        for claim_id, r in results:
            if r is None:
                c = claims[claim_id]
                r = {"id": c.id, "family": c.family, "expected": c.expected, "quick": job.quick, "seed": job.seed,
                     "backend": job.backend, "verdict": "error", "as_expected": False, "ok": False, "unguarded": False,
                     "mutations": [], "error": f"claim {c.id!r} could not run: its worker process died twice"}
            records.append(r)
            sink.add(r)
            bar.update()
            if interactive:
                bar.clear()
            if args.format == "text":
                print("\n".join(_panel_lines(r, width)), flush=True)
            elif args.format == "jsonl":
                print(json.dumps(r), flush=True)
    finally:
        sink.close()
        bar.close()
    due = [m for r in records for m in r["mutations"] if m["expect"] == "caught"]
    blind = [m for r in records for m in r["mutations"] if m["expect"] == "blind"]
    bad = sum(not r["ok"] for r in records)
    if args.format == "json":
        print(json.dumps(records, indent=2))
    elif args.format == "text":
        print(f"{sum(m['caught'] for m in due)} of {len(due)} declared catches happened, {len(blind)} blind "
              f"({sum(m['caught'] for m in blind)} of those caught anyway); {len(records) - bad} of {len(records)} "
              f"claims ok in {time.perf_counter() - began:.1f}s")
    if any(r["error"] for r in records):
        return EXIT_ERROR
    return EXIT_OK if bad == 0 else EXIT_MISMATCH


COMMANDS = {"cache": cmd_cache, "mutate": cmd_mutate, "list": cmd_list, "methods": cmd_methods, "problems": cmd_problems, "verify": cmd_verify, "report": cmd_report}

if __name__ == "__main__":
    raise SystemExit(main())
