"""Operating `casebook serve`: liveness and readiness, Prometheus metrics, request ids in logs."""
