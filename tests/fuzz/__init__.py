"""Fuzzing the emulator over both protocols: every answer is AWS-shaped, never a 5xx.

``tests/fuzz/test_fuzz.py`` is the quick slice that ``make test`` runs; ``python -m tests.fuzz
--requests N`` is the long run, printing the request count and the 5xx count.
"""
