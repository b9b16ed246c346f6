"""Tests of the benchmark harness (tracker/bench) run at a tiny size, so that it cannot rot."""
