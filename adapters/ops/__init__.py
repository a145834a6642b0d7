"""Operating Casebook: health, readiness, metrics, request ids in logs, backups, secrets."""
