"""Exporting the state of every venv to the monitoring a fleet already runs."""
