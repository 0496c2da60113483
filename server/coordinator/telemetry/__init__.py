"""Telemetry: request metrics, tracing, JSON logs, and the pool's Prometheus metrics."""
