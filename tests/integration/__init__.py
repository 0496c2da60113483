"""Integration tests: a real server in the test process (the `pool` fixture), run once on SQLite
and once on PostgreSQL, called through the generated gRPC stubs (and, where a rule is about
REST, through the session's Envoy)."""
