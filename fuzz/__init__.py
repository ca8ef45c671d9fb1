"""Fuzzing shipspec in process (issue 17); see fuzz/README.md."""
