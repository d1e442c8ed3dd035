"""Benchmarks for seskit and the emulator: always ratios against a baseline in the same run."""
