"""The command line never crashes: generated argument lists end in a documented exit code, with
one-line errors and no traceback; a claim that raises becomes an error record; pipes and
interrupts are handled."""

import json
import subprocess
import sys
import textwrap

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import convsim.claims as claims  # noqa: E402
from convsim.cli import main  # noqa: E402

CODES = {0, 1, 2, 3}

TOY = '''
import convsim as cs
from convsim import mutations as mu

def experiment(s, ctx):
    p = cs.problems.Quadratic(cs.spectra.uniform(3, 0.5, 1.0))
    return ctx.simulate(p, cs.methods.GD(0.5), 20, replicas=s["replicas"], metrics=["dist_sq"])

def broken(s, ctx):
    raise RuntimeError("the toy experiment fails\\nwith a second line")

check = lambda tr, s: cs.checks.Linear("dist_sq", 0.75**2, bound="tight", rtol=0.02).check(tr)
src = cs.Source("toy", "0000.00000", "Theorem 0")
toy = cs.Claim("fuzz-toy", "nonconvex", "GD rate", src, (), experiment, check, {"replicas": 1}, {"replicas": 2},
               mutations=(mu.scale("step_size", 1.5),))
toy_neg = toy.negative_control("too fast", lambda tr, s: cs.checks.Linear("dist_sq", 0.5, bound="upper").check(tr))
broken = cs.Claim("fuzz-broken", "nonconvex", "raises", src, (), broken, check, {}, {}, expected="inconclusive")
'''


@pytest.fixture(scope="module")
def toy_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzzclaims")
    (d / "fuzz_toys.py").write_text(textwrap.dedent(TOY))
    (tmp_path_factory.getbasetemp() / "a-file").write_text("not a folder")
    return d


@pytest.fixture(autouse=True)
def only_toys(toy_dir, monkeypatch):
    monkeypatch.setattr(claims, "experiment_dirs", lambda: [toy_dir])


def values(*choices):
    return st.sampled_from(choices)


def option_lists(base):
    out = str(base / "out")
    bad_out = str(base.parent / "a-file")
    options = st.one_of(
        st.tuples(values("--format"), values("text", "json", "jsonl", "")),
        st.tuples(values("--family"), values("nonconvex", "first-order-x", "", "bandit")),
        st.tuples(values("--backend"), values("numpy", "array_api_strict", "cupy", "torch", "")),
        st.tuples(values("--dtype"), values("float64", "float16", "x")),
        st.tuples(values("--replicas", "--seed", "--chunk-size"),
                  values("1", "2", "0", "-3", "abc", "1e3", str(10**30), "1000000000")),
        st.tuples(values("--out", "--figures"), values(out, bad_out, "")),
        st.tuples(values("--quick", "--no-cache", "--all", "--help", "--bogus")),
        st.tuples(values("fuzz-toy", "fuzz-toy-neg", "fuzz-broken", "no-such-claim", "")),
    )
    return st.lists(options, max_size=5).map(lambda groups: [a for g in groups for a in g])


COMMANDS = ("list", "methods", "problems", "verify", "report", "mutate", "cache", "info", "clear", "", "--version",
            "frobnicate")


def test_generated_argument_lists_never_crash(tmp_path, capsys):
    seen = {"calls": 0, "codes": {}}

    @settings(max_examples=320, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.tuples(values(*COMMANDS), option_lists(tmp_path)))
    def one(case):
        command, rest = case
        argv = ([command] if command else []) + rest
        if command == "cache":
            argv = ["cache", "info" if "--help" not in rest else "--help"] + [a for a in rest if a != "--help"]
        code = main(argv)
        out, err = capsys.readouterr()
        seen["calls"] += 1
        seen["codes"][code] = seen["codes"].get(code, 0) + 1
        assert code in CODES, (argv, code, err)
        assert "Traceback" not in out + err, argv
        if code == 2:
            lines = [line for line in err.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("convsim: error:"), (argv, err)

    one()
    assert seen["calls"] >= 300 and {0, 2} <= set(seen["codes"])
    print(f"fuzzed {seen['calls']} argument lists; exit codes {dict(sorted(seen['codes'].items()))}")


def test_a_claim_that_raises_is_an_error_record_and_the_others_still_run(tmp_path, capsys):
    code = main(["verify", "fuzz-broken", "fuzz-toy", "--out", str(tmp_path), "--format", "json"])
    records = json.loads(capsys.readouterr().out)
    assert code == 3
    broken, toy = records
    assert broken["verdict"] == "error" and "RuntimeError: the toy experiment fails" in broken["error"]
    assert "\n" not in broken["error"] and toy["verdict"] == "consistent"


def test_too_many_replicas_are_refused_with_the_memory_they_need(tmp_path, capsys):
    code = main(["verify", "fuzz-toy", "--replicas", str(10**12), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 3 and "GiB of memory" in out


def test_a_closed_pipe_is_not_a_traceback():
    proc = subprocess.Popen([sys.executable, "-m", "convsim", "list", "--format", "json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # the reader leaves, as `| head -1` does (the listing is larger than a pipe buffer)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0 and "Traceback" not in err and "BrokenPipe" not in err


@pytest.mark.parametrize("delay", [0.2, 0.6, 1.2])
def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(delay):
    import signal
    import time

    entry = [sys.executable, "-c", "import convsim_entry, sys; sys.exit(convsim_entry.main())", "verify", "--all",
             "--quick", "--no-cache", "--out", "/tmp/convsim-interrupt-test"]
    proc = subprocess.Popen(entry, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode() and err.decode().strip().splitlines()[-1] == "convsim: interrupted"
