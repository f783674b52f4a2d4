"""Every shipped claim, at its quick settings, gives its expected verdict; every claim is cited."""

import pytest

import convsim as cs
from convsim.claims import discover

CLAIMS = discover()


def test_the_foundation_claims_and_their_negative_controls_exist():
    for cid in ("gd-linear", "nesterov-convex", "sgd-const-floor", "sgd-decreasing", "averaging"):
        assert CLAIMS[cid].family == "first-order" and CLAIMS[cid].expected == "consistent"
        assert CLAIMS[f"{cid}-neg"].expected == "violated" and CLAIMS[f"{cid}-neg"].negative_of == cid


@pytest.mark.parametrize("claim", CLAIMS.values(), ids=lambda c: c.id)
def test_claim_is_cited(claim):
    src = claim.source
    assert src.title and src.theorem and (src.arxiv or src.doi or src.url or src.venue)
    assert "[S" not in src.cite() + claim.statement  # papers by title and id, never by internal seed labels
    assert claim.statement and claim.assumptions


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    return cs.Context(store=cs.store.ResultStore(tmp_path_factory.mktemp("runs")))


@pytest.mark.parametrize("claim", CLAIMS.values(), ids=lambda c: c.id)
def test_quick_verdict_is_as_expected(claim, ctx):
    outcome = claim.run(ctx, quick=True)
    assert outcome.verdict.verdict == claim.expected, outcome.verdict.summary()
