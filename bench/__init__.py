"""Benchmarks of the pipeline (`make bench`): scripts that time things, never tests."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the project
