"""Benchmarks, run on purpose from the repository root as modules (`python -m bench.harness`),
so they import the server, devtools and tests.support as the tests do, with no path set-up."""
