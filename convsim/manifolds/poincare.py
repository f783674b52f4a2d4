"""The Poincaré ball of curvature −1 in closed form: the geometry RAMSGRAD needs, on any array-API backend.

Points are arrays whose last axis is the ball's dimension n (any leading batch axes: replicas,
component manifolds of a product); ‖x‖ < 1.  The metric is conformal, g_x = λ_x² ⟨·,·⟩ with
λ_x = 2/(1 − ‖x‖²).  Formulas (Ganea, Bécigneul & Hofmann 2018, arXiv 1805.09112, Sec. 2; Ungar's
gyrovector calculus; the same closed forms as geoopt's ``PoincareBall``, which the tests compare with):

  Möbius addition   x ⊕ y = ((1 + 2⟨x,y⟩ + ‖y‖²) x + (1 − ‖x‖²) y) / (1 + 2⟨x,y⟩ + ‖x‖²‖y‖²)
  distance          d(x, y) = 2 artanh ‖(−x) ⊕ y‖
  exponential map   exp_x(v) = x ⊕ (tanh(λ_x ‖v‖ / 2) v/‖v‖)
  logarithm         log_x(y) = (2/λ_x) artanh ‖w‖ · w/‖w‖,  w = (−x) ⊕ y
  gyration          gyr[u, v] w = ⊖(u ⊕ v) ⊕ (u ⊕ (v ⊕ w)), in closed form w + 2(A u + B v)/D
  parallel transport along the geodesic from x to y:  P_{x→y}(v) = (λ_x/λ_y) gyr[y, −x] v
  Riemannian gradient  grad f(x) = ∇f(x) / λ_x²   (the inverse metric applied to the Euclidean gradient)
"""

from __future__ import annotations

from array_api_compat import array_namespace


def _dot(xp, a, b):
    return xp.sum(a * b, axis=-1, keepdims=True)


def _norm(xp, a, floor: float = 0.0):
    n = xp.sqrt(_dot(xp, a, a))
    return xp.maximum(n, xp.asarray(floor, dtype=n.dtype)) if floor else n


_TINY = 1e-15  # guards v/‖v‖ at v = 0 (the maps are continuous there: the factor multiplies a zero vector)


def conformal_factor(x):
    """λ_x = 2/(1 − ‖x‖²), shape ``x.shape[:-1] + (1,)``."""
    xp = array_namespace(x)
    return 2.0 / (1.0 - _dot(xp, x, x))


def inner(x, u, v):
    """⟨u, v⟩_x = λ_x² ⟨u, v⟩ (keepdims on the last axis)."""
    xp = array_namespace(x)
    return conformal_factor(x) ** 2 * _dot(xp, u, v)


def norm_sq(x, v):
    """‖v‖²_x, the squared Riemannian norm of a tangent vector at x (keepdims)."""
    return inner(x, v, v)


def mobius_add(x, y):
    xp = array_namespace(x)
    xy, xx, yy = _dot(xp, x, y), _dot(xp, x, x), _dot(xp, y, y)
    return ((1.0 + 2.0 * xy + yy) * x + (1.0 - xx) * y) / (1.0 + 2.0 * xy + xx * yy)


def distance(x, y):
    """Geodesic distance d(x, y) (without the kept last axis)."""
    xp = array_namespace(x)
    return 2.0 * xp.atanh(_norm(xp, mobius_add(-x, y))[..., 0])


def expmap(x, v):
    """exp_x(v): the point reached at time 1 by the geodesic from x with velocity v."""
    xp = array_namespace(x)
    n = _norm(xp, v, _TINY)
    return mobius_add(x, xp.tanh(conformal_factor(x) * n / 2.0) * v / n)


def logmap(x, y):
    """log_x(y), the inverse of :func:`expmap`."""
    xp = array_namespace(x)
    w = mobius_add(-x, y)
    n = _norm(xp, w, _TINY)
    return (2.0 / conformal_factor(x)) * xp.atanh(n) * w / n


def gyration(u, v, w):
    """gyr[u, v] w in closed form (curvature −1)."""
    xp = array_namespace(u)
    uw, vw, uv = _dot(xp, u, w), _dot(xp, v, w), _dot(xp, u, v)
    uu, vv = _dot(xp, u, u), _dot(xp, v, v)
    a = -uw * vv + vw + 2.0 * uv * vw
    b = -vw * uu - uw
    d = 1.0 + 2.0 * uv + uu * vv
    return w + 2.0 * (a * u + b * v) / d


def transport(x, y, v):
    """Parallel transport of the tangent vector v at x to y along the geodesic joining them."""
    return (conformal_factor(x) / conformal_factor(y)) * gyration(y, -x, v)


def riemannian_grad(x, egrad):
    """grad f(x) = ∇f(x)/λ_x² from the Euclidean gradient."""
    return egrad / conformal_factor(x) ** 2


def projected_retraction(x, v, max_norm: float = 1.0 - 1e-5):
    """The first-order retraction x + v, pulled back inside the ball of radius ``max_norm`` (geoopt's
    ``PoincareBall.retr``): an approximation of :func:`expmap` to first order in v."""
    xp = array_namespace(x)
    y = x + v
    n = _norm(xp, y, _TINY)
    return xp.where(n > max_norm, y * (max_norm / n), y)


def squared_distance_egrad(x, y):
    """Euclidean gradient in x of d(x, y)²: with α = 1 − ‖x‖², β = 1 − ‖y‖², γ = 1 + 2‖x − y‖²/(αβ),
    d = arcosh γ and ∇γ = (4/(αβ)) (x − y) + (4‖x − y‖²/(α²β)) x, so ∇d² = 2 d ∇γ / √(γ² − 1)
    (the ratio d/√(γ² − 1) → 1 as y → x)."""
    xp = array_namespace(x)
    diff = x - y
    dd = _dot(xp, diff, diff)
    alpha, beta = 1.0 - _dot(xp, x, x), 1.0 - _dot(xp, y, y)
    gamma_minus_1 = 2.0 * dd / (alpha * beta)
    grad_gamma = (4.0 / (alpha * beta)) * diff + (4.0 * dd / (alpha * alpha * beta)) * x
    root = xp.sqrt(gamma_minus_1 * (gamma_minus_1 + 2.0))  # √(γ² − 1) without cancellation
    d = xp.log1p(gamma_minus_1 + root)  # arcosh γ
    ratio = xp.where(root > 1e-12, d / xp.maximum(root, xp.asarray(1e-300, dtype=root.dtype)),
                     xp.ones_like(root))
    return 2.0 * ratio * grad_gamma
