"""Checkers: compare an empirical rate with a stated bound and return an honest verdict."""

from .bounds import Envelope, Quantile, evaluate_bound
from .complexity import Complexity, hitting_costs
from .event import Event, escape_metric
from .level import Compare, Level
from .monotone import Monotone, excursions
from .order import Order, follows_order
from .rates import Exponent, Linear, ols_slope
from .reference import Reference, farthest_from_one
from .verdict import CONSISTENT, INCONCLUSIVE, VERDICTS, VIOLATED, Checker, Verdict, is_loose, tightness

__all__ = ["Exponent", "Linear", "Complexity", "hitting_costs", "Envelope", "Quantile", "Level", "Compare", "Reference",
           "farthest_from_one", "Event", "escape_metric", "Order", "follows_order", "Monotone", "excursions",
           "Verdict", "Checker", "CONSISTENT", "VIOLATED", "INCONCLUSIVE", "VERDICTS",
           "evaluate_bound", "ols_slope", "tightness", "is_loose"]
