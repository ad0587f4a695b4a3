"""Shim for Dataflow's --setup_file: workers build the project from pyproject.toml."""

from setuptools import setup

setup()
