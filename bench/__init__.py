"""Benchmarks: each reports its rate beside the raw primitive measured in the same run."""
