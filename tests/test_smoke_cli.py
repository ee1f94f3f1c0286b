from __future__ import annotations

import json
from pathlib import Path

from tests.support import make_venv, real_python
from venv_doctor.cli import run


def test_check_json_on_healthy_store(isolated_home: Path, capsys) -> None:
    make_venv(real_python("3.12"), isolated_home / ".virtualenvs" / "one")
    assert run(["check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == 1
    assert [v["status"] for v in data["venvs"]] == ["healthy"]
    assert data["summary"] == {"healthy": 1, "degraded": 0, "broken": 0, "unknown": 0}
