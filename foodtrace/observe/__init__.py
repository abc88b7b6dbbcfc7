"""Observability: JSON log lines, Prometheus metrics at ``/metrics``, and ``/healthz``."""
