"""Helpers shared by the test suites and the benchmarks: the test server's settings and admin
key, a real Envoy, PostgreSQL scratch databases, wallets, a test miner and a logged-in identity,
the pool API over gRPC and REST, the authorization table, decoded gRPC errors."""
