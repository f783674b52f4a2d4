"""Robust aggregation rules on batched vectors of shape (R, n, d) → (R, d).

* :func:`mean` — plain averaging (not robust: one vector moves it arbitrarily far);
* :func:`coordinate_median` — the coordinate-wise median;
* :func:`trimmed_mean` — per coordinate, the mean after dropping the f largest and f smallest values;
* :func:`krum` — the vector whose summed squared distance to its n − f − 2 nearest others is least
  (Blanchard et al., 2017);
* :func:`nearest_neighbour_average` — for each pivot, the mean of the n − f vectors nearest to it
  (the NNA mixing of MoNNA, Farhadkhani et al. arXiv 2209.10931; with the vectors themselves as
  pivots it is the NNM pre-aggregation of Allouah et al. arXiv 2302.01772).

Every rule is pure broadcasting and sorting (no host syncs, any Array-API backend).  Ties in the
nearest-neighbour order are broken by index, so the kept set always has exactly n − f members.
"""

from __future__ import annotations

from array_api_compat import array_namespace

from ..errors import require


def _check(vectors, f):
    n = vectors.shape[-2]
    require(0 <= f and 2 * f < n, f"robust aggregation needs 0 <= f < n/2 faulty vectors, got f = {f} of n = {n}")
    return n


def squared_distances(a, b):
    """‖a_i − b_j‖² for a of shape (R, p, d) and b of shape (R, q, d): shape (R, p, q)."""
    xp = array_namespace(a)
    cross = xp.matmul(a, xp.matrix_transpose(b))
    return xp.sum(a * a, axis=-1)[:, :, None] + xp.sum(b * b, axis=-1)[:, None, :] - 2.0 * cross


def mean(vectors, f: int = 0):
    return array_namespace(vectors).mean(vectors, axis=-2)


def coordinate_median(vectors, f: int = 0):
    xp = array_namespace(vectors)
    n = vectors.shape[-2]
    s = xp.sort(vectors, axis=-2)
    if n % 2:
        return s[:, n // 2, :]
    return 0.5 * (s[:, n // 2 - 1, :] + s[:, n // 2, :])


def trimmed_mean(vectors, f: int):
    n = _check(vectors, f)
    xp = array_namespace(vectors)
    return xp.mean(xp.sort(vectors, axis=-2)[:, f:n - f, :], axis=-2)


def nearest_mask(distances, keep: int):
    """For distances (R, p, q), a 0/1 mask of the ``keep`` smallest per row, ties broken by column index."""
    xp = array_namespace(distances)
    order = xp.argsort(distances, axis=-1, stable=True)
    rank = xp.argsort(order, axis=-1, stable=True)  # rank[i, j]: how many columns come before j in row i
    return xp.astype(rank < keep, distances.dtype)


def nearest_neighbour_average(vectors, f: int, pivots=None):
    """For each pivot (default: every vector), the mean of the n − f vectors nearest to it: (R, p, d)."""
    n = _check(vectors, f)
    xp = array_namespace(vectors)
    pivots = vectors if pivots is None else pivots
    mask = nearest_mask(squared_distances(pivots, vectors), n - f)
    return xp.matmul(mask, vectors) / (n - f)


def krum(vectors, f: int):
    n = _check(vectors, f)
    require(n - f - 2 >= 1, f"Krum needs n - f - 2 >= 1, got n = {n}, f = {f}")
    xp = array_namespace(vectors)
    dist = xp.sort(squared_distances(vectors, vectors), axis=-1)  # column 0 is the vector itself
    scores = xp.sum(dist[:, :, 1:n - f - 1], axis=-1)  # (R, n)
    best = xp.argmin(scores, axis=-1)
    onehot = xp.astype(xp.arange(n)[None, :] == best[:, None], vectors.dtype)
    return xp.sum(onehot[:, :, None] * vectors, axis=-2)


RULES = {"mean": mean, "median": coordinate_median, "trimmed-mean": trimmed_mean, "krum": krum}
"""Aggregation rules by name."""


def aggregate(rule: str, vectors, f: int, *, pre_nnm: bool = False):
    """``rule`` applied to the vectors, after NNM (each vector replaced by its n − f nearest's mean) if asked."""
    require(rule in RULES, f"unknown aggregation rule {rule!r}; known: {sorted(RULES)}")
    if pre_nnm:
        vectors = nearest_neighbour_average(vectors, f)
    return RULES[rule](vectors, f)
