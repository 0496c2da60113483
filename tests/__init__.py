"""The test suites, by scope: unit/ (pure functions: no server, no database), integration/ (a
real server in this process on SQLite and PostgreSQL, called through the generated stubs), e2e/
(real processes: Envoy, server processes, the CLI, Prometheus, `make run`). Helpers they share
live in support/, which benchmarks import too (`python -m bench.harness` from the repository
root); a test module never imports another (unit/test_suite_imports.py keeps it so)."""
