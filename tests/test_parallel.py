"""`--jobs N` runs claims in worker processes with verdicts, evidence and stored runs identical to a serial run;
a worker that dies is reported and its claims run again."""

import concurrent.futures as cf
import importlib
import json
import multiprocessing

import numpy as np
import pytest

import convsim as cs
from convsim import claims as claims_module
from convsim import cli
from convsim.cli import main
from convsim.store import load_trace

ONE_PER_FAMILY = ["gd-linear", "gd-linear-neg", "stationary-cov", "ucb-log", "aid-itd-cg", "oomd-sea", "lr-perceptron",
                  "zo-fw", "dp-clip-bias", "compression-ef"]


def _records(capsys, argv):
    code = main(argv + ["--format", "json", "--no-figures"])
    return code, {r["id"]: r for r in json.loads(capsys.readouterr().out)}


@pytest.mark.slow
def test_jobs_2_gives_the_serial_verdicts_evidence_and_runs(capsys, tmp_path):
    serial_code, serial = _records(capsys, ["verify", *ONE_PER_FAMILY, "--quick", "--out", str(tmp_path / "a")])
    par_code, par = _records(capsys, ["verify", *ONE_PER_FAMILY, "--quick", "--out", str(tmp_path / "b"),
                                      "--jobs", "2"])
    assert serial_code == par_code and set(serial) == set(par) == set(ONE_PER_FAMILY)
    for i in ONE_PER_FAMILY:
        assert serial[i]["verdict"] == par[i]["verdict"] and serial[i]["evidence"] == par[i]["evidence"], i
    a = sorted(p.name for p in (tmp_path / "a" / "runs").glob("*.nc"))
    b = sorted(p.name for p in (tmp_path / "b" / "runs").glob("*.nc"))
    assert a == b  # the same runs under the same keys
    for name in a:  # and the same float64 arrays bit for bit (the metadata holds wall times)
        ta, tb = (load_trace(tmp_path / d / "runs" / name) for d in ("a", "b"))
        assert np.array_equal(ta.diverged_at, tb.diverged_at)
        for m in ta.metrics:
            assert np.array_equal(ta.metrics[m], tb.metrics[m], equal_nan=True)


def test_a_dead_worker_is_reported_and_its_claims_rerun(capsys, tmp_path, monkeypatch):
    from convsim import cli

    marker = tmp_path / "died-once"
    monkeypatch.setenv("CONVSIM_TEST_DIE_ONCE", str(marker))
    code = main(["verify", "gd-linear", "gd-linear-neg", "--quick", "--out", str(tmp_path), "--jobs", "2",
                 "--no-figures", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0 and "a worker process died" in err and marker.exists()
    assert {r["id"] for r in json.loads(out)} == {"gd-linear", "gd-linear-neg"}
    assert cli._groups is not None


def runs_of_every_simulator():
    """One run of each simulator with a replica count that is not a multiple of the 64-replica chunk,
    and per-replica starting points where a simulator takes them: ``name -> run(executor, threads=1)``."""
    bl, on = cs.bilevel, cs.online
    rng = np.random.default_rng(0)
    quadratic = cs.problems.Quadratic(cs.spectra.geometric(6, 1.0, 0.05), noise=cs.noise.Gaussian(0.3), rotate=True)
    ou = cs.sde.LinearSDE(np.array([[1.0, 0.2], [0.0, 0.5]]), 0.3 * np.eye(2))
    bilevel = bl.QuadraticBilevel(dim_x=4, dim_y=6, mu_g=0.2, L_g=2.0, coupling=0.7, c_min=0.5, c_max=1.5, mu_x=0.3,
                                  seed=3, sigma_f=0.2, sigma_g=0.2, sigma_2=0.1)
    starts = rng.normal(size=(333, 2)), rng.normal(size=(333, 4)), rng.normal(size=(333, 6))
    losses = on.SEAQuadratic.tuned(on.Ball(2, 1.0), 50, 5.0, 3.0, a=1.0, m=(-0.3, 0.2))
    adversary = cs.bandits.AdversarialBandit(rng.random((120, 3)))
    return {
        "first-order": lambda ex, threads=1: cs.simulate(quadratic, cs.methods.SGD(0.05, momentum=0.9), 60, 333,
                                                         seed=5, chunk_size=64, executor=ex, threads=threads),
        "sde": lambda ex, threads=1: cs.sde.simulate_sde(ou, cs.sde.ExactOU(), starts[0], 1.0, 0.1, 333,
                                                         record=[3, 10], metrics=("sq_norm", "dist_sq"), seed=7,
                                                         chunk_size=64, executor=ex, threads=threads),
        # an SDE of closures: Dask and threads carry it, a process pool cannot pickle it
        "sde-closures": lambda ex, threads=1: cs.sde.simulate_sde(ou.as_sde(), cs.sde.EulerLevy(1.2), np.ones(2), 1.0,
                                                                  0.1, 333, record=[10], seed=7, chunk_size=64,
                                                                  executor=ex, threads=threads),
        "bandit": lambda ex, threads=1: cs.bandits.simulate_bandit(cs.bandits.BernoulliBandit((0.6, 0.5, 0.4)),
                                                                   cs.bandits.UCB1(), 120, 333, seed=2, chunk_size=64,
                                                                   executor=ex, threads=threads),
        "bandit-adversarial": lambda ex, threads=1: cs.bandits.simulate_bandit(adversary, cs.bandits.EXP3(0.1), 120,
                                                                               333, seed=2, chunk_size=64, executor=ex,
                                                                               threads=threads),
        "online": lambda ex, threads=1: on.simulate_online(losses, on.OptimisticOMD(on.Adaptive(2.0, cap=0.25)), 50,
                                                           333, seed=3, chunk_size=64, executor=ex, threads=threads),
        "bilevel": lambda ex, threads=1: bl.simulate_bilevel(bilevel, bl.AmIGO(0.05, 0.3, 0.3, 2, 2, 2, 2), 30, 333,
                                                             record=[10, 30], seed=4, chunk_size=64, x0=starts[1],
                                                             y0=starts[2], executor=ex, threads=threads),
    }


def assert_same_trace(a, b):
    assert list(a.metrics) == list(b.metrics) and np.array_equal(a.steps, b.steps)
    for name in a.metrics:  # float64 bit for bit
        assert np.array_equal(a.metrics[name], b.metrics[name], equal_nan=True), name
    assert np.array_equal(a.diverged_at, b.diverged_at)
    assert a.constants == b.constants


class CountingExecutor(cf.ThreadPoolExecutor):
    def __init__(self):
        super().__init__(max_workers=2)
        self.tasks = 0

    def submit(self, fn, *args, **kwargs):
        self.tasks += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture(scope="module")
def process_pool():
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@pytest.mark.parametrize("name", sorted(runs_of_every_simulator()))
def test_every_simulator_split_across_processes_gives_the_local_trace(name, process_pool):
    run = runs_of_every_simulator()[name]
    counting = CountingExecutor()
    local, threads = run(None), run(counting)
    assert counting.tasks == 6  # 333 replicas: five chunks of 64 and one of 13
    assert_same_trace(local, threads)
    if name != "sde-closures":
        assert_same_trace(local, run(process_pool))  # a process pool pickles every argument


@pytest.mark.parametrize("name", sorted(runs_of_every_simulator()))
def test_every_simulator_on_threads_gives_the_serial_trace(name):
    run = runs_of_every_simulator()[name]
    serial = run(None, threads=1)
    for threads in (2, 3):  # 333 replicas in chunks of 64: shares of 192 + 141 rows, or 128 + 128 + 77
        assert_same_trace(serial, run(None, threads=threads))


def test_the_executor_is_no_part_of_a_runs_key(tmp_path):
    store = cs.store.ResultStore(tmp_path)
    env = cs.bandits.BernoulliBandit((0.6, 0.5))
    counting = CountingExecutor()
    distributed = cs.Context(store=store, executor=counting, chunk_size=64)
    remote = distributed.simulate_bandit(env, cs.bandits.UCB1(), 50, 130)
    assert counting.tasks == 3 and len(distributed.runs_used) == 1
    local = cs.Context(store=store, chunk_size=64)
    assert_same_trace(remote, local.simulate_bandit(env, cs.bandits.UCB1(), 50, 130))
    assert local.runs_used == distributed.runs_used  # the stored run, under the same key
    threaded = cs.Context(store=store, chunk_size=64, threads=2)
    assert_same_trace(remote, threaded.simulate_bandit(env, cs.bandits.UCB1(), 50, 130))
    assert threaded.runs_used == distributed.runs_used  # nor are the threads


def test_a_context_passes_its_threads_to_every_simulator(monkeypatch):
    seen = []
    engine = importlib.import_module("convsim.engine.simulate")  # the module (the package exports its function)
    real = engine.run_chunks

    def counted(work, replicas, chunk, threads=1):
        seen.append(threads)
        return real(work, replicas, chunk, threads)

    monkeypatch.setattr(engine, "run_chunks", counted)
    ou = cs.sde.LinearSDE(np.eye(2), 0.3 * np.eye(2))
    quiet = cs.Context(threads=3)
    quiet.simulate_sde(ou, cs.sde.ExactOU(), np.ones(2), 1.0, 0.1, 200)
    quiet.simulate_bandit(cs.bandits.BernoulliBandit((0.6, 0.5)), cs.bandits.UCB1(), 20, 200)
    cs.online.run(quiet, cs.online.SEAQuadratic.tuned(cs.online.Ball(2, 1.0), 20, 5.0, 3.0, a=1.0, m=(-0.3, 0.2)),
                  cs.online.OptimisticOMD(cs.online.Adaptive(2.0, cap=0.25)), 20, 200)
    assert seen == [3, 3, 3]


def _count_first_order_runs(monkeypatch) -> list:
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[:2])
        return real(*args, **kwargs)

    real = claims_module.simulate
    monkeypatch.setattr(claims_module, "simulate", counted)
    return calls


def test_a_control_reuses_its_claims_run_under_no_cache(monkeypatch, capsys, tmp_path):
    calls = _count_first_order_runs(monkeypatch)
    _, alone = _records(capsys, ["verify", "gd-linear", "--quick", "--no-cache", "--out", str(tmp_path / "a")])
    runs_of_the_claim = len(calls)
    assert runs_of_the_claim >= 1
    calls.clear()
    family = ["gd-linear", "gd-linear-exact", "gd-linear-neg"]  # a claim, its sharp companion and its control
    code, together = _records(capsys, ["verify", *family, "--quick", "--no-cache", "--out", str(tmp_path / "b")])
    assert code == 0 and len(calls) == runs_of_the_claim  # the companion and the control ran nothing
    assert together["gd-linear"]["evidence"] == alone["gd-linear"]["evidence"]
    calls.clear()  # a worker runs a claim file's claims as one group, with the same memory
    groups = cli._groups(claims_module.discover(), family)
    assert groups == [tuple(family)]
    job = cli._job(cli.build_parser().parse_args(["verify", *family, "--quick", "--no-cache", "--no-figures",
                                                  "--out", str(tmp_path / "c")]), claims_module.discover())
    records = dict(cli._run_group(cli._verify_one, job, groups[0]))
    assert len(calls) == runs_of_the_claim
    assert {i: r["evidence"] for i, r in records.items()} == {i: together[i]["evidence"] for i in family}


def test_groups_start_longest_first(tmp_path):
    """Workers take the longest claim files first (no long group left to run alone at the end): by an
    earlier run's seconds when OUT has them, else by the number of claims; an untimed id counts as a
    median claim."""
    claims = claims_module.discover()
    gd = ["gd-linear", "gd-linear-exact", "gd-linear-neg"]
    sgd = ["sgd-const-floor", "sgd-const-floor-neg"]
    assert cli._groups(claims, sgd + gd) == [tuple(gd), tuple(sgd)]  # 3 claims before 2
    slow_sgd = {"gd-linear": 0.1, "gd-linear-exact": 0.1, "gd-linear-neg": 0.1, "sgd-const-floor": 5.0}
    assert cli._groups(claims, gd + sgd, slow_sgd) == [tuple(sgd), tuple(gd)]
    (tmp_path / "verdicts.json").write_text(json.dumps({
        "gd-linear@quick": {"id": "gd-linear", "seconds": 2.5}, "gd-linear@full": {"id": "gd-linear", "seconds": 9.0}}))
    assert cli._earlier_seconds(tmp_path, quick=True) == {"gd-linear": 2.5}
    assert cli._earlier_seconds(tmp_path, quick=False) == {"gd-linear": 9.0}
    (tmp_path / "verdicts.json").write_text("{damaged")
    assert cli._earlier_seconds(tmp_path, quick=True) == {}  # scheduling never fails on a damaged index


def test_thread_copies_are_made_before_any_thread_runs(monkeypatch):
    """Each thread's copies of a run's host-side objects are made in the calling thread: a running share
    can reach an original through a closure (a term's lambda filling its problem's device cache), and a
    deep copy made meanwhile on another thread failed with "dictionary changed size during iteration"."""
    import copy
    import threading

    engine = importlib.import_module("convsim.engine.simulate")  # the module (the package exports the function)

    copied_on = []
    real = copy.deepcopy

    def recording(obj, memo=None):
        if memo is None:  # the top-level call only
            copied_on.append(threading.current_thread() is threading.main_thread())
        return real(obj, memo)

    monkeypatch.setattr(engine.copy, "deepcopy", recording)
    p = cs.problems.Quadratic(np.array([1.0, 0.3]), noise=cs.noise.Gaussian(0.5))
    sde = cs.sde.usam_sde(p, 0.1, 0.3)
    cs.sde.simulate_sde(sde, cs.sde.EulerMaruyama(), p.initial_point(), 0.2, 0.01, 256, record=[20], seed=1,
                        threads=2)
    cs.simulate(p, cs.methods.SGD(0.1), 20, 256, threads=2, chunk_size=64)
    assert copied_on and all(copied_on)
