"""Timing benchmarks for the portal: ``python -m benchmarks <name>`` (see README.md)."""
