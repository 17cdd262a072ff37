"""Benchmarks: how fast the workbook is at every scale a user meets (see bench/README.md)."""
