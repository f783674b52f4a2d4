"""Bandits: batched environments, learners and regret runs."""

from .environments import AdversarialBandit, BernoulliBandit, GaussianBandit, bernoulli_kl
from .gp import GPUCB, gp_sample_bandit, grid_points, squared_exponential, srinivas_beta
from .learners import (EXP3, EXP3IX, KLUCB, MOSS, UCB1, EpsilonGreedy, ExploreThenCommit, ThompsonBernoulli,
                       ThompsonGaussian, TsallisINF)
from .policy_gradient import ClippedPolicyGradient
from .regret import late_slope
from .simulate import simulate_bandit
from .sor import SORSequence, sor_iterations

__all__ = ["BernoulliBandit", "GaussianBandit", "AdversarialBandit", "bernoulli_kl", "UCB1", "EpsilonGreedy", "EXP3",
           "EXP3IX", "KLUCB", "MOSS", "ThompsonBernoulli", "ThompsonGaussian", "ExploreThenCommit", "TsallisINF",
           "simulate_bandit", "late_slope", "SORSequence", "sor_iterations", "GPUCB", "gp_sample_bandit",
           "grid_points", "squared_exponential", "srinivas_beta", "ClippedPolicyGradient"]
