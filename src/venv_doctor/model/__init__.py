"""The venv model: what a venv directory holds, read from disk without running it."""
