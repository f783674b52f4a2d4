"""Packaging beyond pyproject.toml: the claim catalogue ships inside the wheel.

``experiments/`` stays at the top of the repository (one cited file per claim); a regular
install maps it to ``convsim/experiments`` so ``convsim list`` finds the same claims as an
editable checkout.  Families are folders, found here so a new one needs no edit.
"""

from setuptools import find_namespace_packages, find_packages, setup

families = [f"convsim.experiments.{name}" for name in find_namespace_packages("experiments")]
setup(
    packages=find_packages(include=["convsim", "convsim.*"]) + ["convsim.experiments", *families],
    package_dir={"convsim.experiments": "experiments"},
    py_modules=["convsim_entry"],
    package_data={"convsim": ["py.typed"]},
)
