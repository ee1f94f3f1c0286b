"""Making a new venv and installing into it: creators, installers, pip settings."""
