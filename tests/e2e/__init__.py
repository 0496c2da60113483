"""End-to-end tests: real processes as users run them. REST through Envoy, server processes
killed and restarted, the CLI, Prometheus scraping, TLS, tracing to an OTLP receiver, the wheels
installed into a new virtualenv, the README's examples against `make run`."""
