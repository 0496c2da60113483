"""Development and operations tools, outside the server package: the `make run` supervisor,
the Envoy config renderer, and the launcher tests and benchmarks start servers with."""
