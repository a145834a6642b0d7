"""Persistence for Casebook: SQLModel tables, engine set-up, queries and migrations.

This package knows nothing of chat platforms; every query takes a tenant.
"""
