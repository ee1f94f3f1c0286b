from __future__ import annotations

from venv_doctor.cli import main

if __name__ == "__main__":
    main()
