"""Diagnosis: from a venv read off disk to findings and a status."""
