"""Repair: planning, relinking, rebuilding as a transaction, backups and locks."""
