"""venv-doctor: find, diagnose, record and repair Python virtual environments."""

from __future__ import annotations

__version__ = "0.1.0"
