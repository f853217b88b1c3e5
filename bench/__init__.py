"""Benchmarks of the pipeline (`make bench`): scripts that time things, never tests."""
