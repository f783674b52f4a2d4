"""Sources cite papers, books, DOIs and pages; results have concise reprs."""

import numpy as np
import pytest

import convsim as cs


def test_sources_of_every_kind_cite_themselves():
    assert cs.Source("Handbook", "2301.11235", "Thm 5.8").cite() == "Handbook (arXiv:2301.11235), Thm 5.8"
    book = cs.Source("Bandit Algorithms", venue="Cambridge University Press, 2020", theorem="Thm 8.1")
    assert book.cite() == "Bandit Algorithms (Cambridge University Press, 2020), Thm 8.1"
    doi = cs.Source("UCB1", doi="10.1023/A:1013689704352", venue="Machine Learning 47 (2002)", theorem="Thm 1")
    assert "doi:10.1023/A:1013689704352" in doi.cite() and "Machine Learning" in doi.cite()
    assert cs.Source("Notes", url="https://example.org/notes").cite() == "Notes (https://example.org/notes)"
    legacy = cs.Source("EXP3", "n/a (SIAM J. Comput. 32(1), 2002)", "Cor 3.2")
    assert legacy.arxiv == "" and legacy.venue == "SIAM J. Comput. 32(1), 2002"
    for bad in (dict(arxiv="23.1"), dict(doi="doi:10.1/x"), dict()):
        with pytest.raises(cs.ConvsimError):
            cs.Source("t", **bad)


def test_results_have_concise_reprs():
    tr = cs.simulate(cs.problems.Quadratic(np.ones(3)), cs.methods.GD(0.5), 100, 4)
    assert repr(tr).startswith("Trace(replicas=4, checkpoints=") and "\n" not in repr(tr) and len(repr(tr)) < 200
    v = cs.checks.Linear("dist_sq", 0.25, bound="tight").check(tr)
    assert repr(v).startswith("Verdict(consistent: linear dist_sq") and len(repr(v)) < 300
    assert "<b" in v._repr_html_() and "<table>" in tr._repr_html_()
