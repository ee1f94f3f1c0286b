from __future__ import annotations

from pathlib import Path

from tests.support import make_venv, real_python
from venv_doctor.repair import carryover


def test_template_differences_between_versions_are_not_edits(tmp_path: Path) -> None:
    # as in a rebuild: the old venv renamed aside, the new one made at the same path
    old = make_venv(real_python("3.12"), tmp_path / "v").rename(tmp_path / "backup")
    new = make_venv(real_python("3.11"), tmp_path / "v")
    assert carryover.plan(old, new).edited_activate == ()
    with (old / "bin" / "activate").open("a") as fh:
        fh.write('export DJANGO_SETTINGS_MODULE="proj.settings"\n')
    assert carryover.plan(old, new).edited_activate == ("bin/activate",)


def test_creator_files_are_not_carried_but_user_files_are(tmp_path: Path) -> None:
    old = make_venv(real_python("3.12"), tmp_path / "old", creator="virtualenv")
    new = make_venv(real_python("3.12"), tmp_path / "new", creator="virtualenv")
    (old / "bin" / "postactivate").write_text("echo hi\n")
    (old / "etc").mkdir()
    (old / "etc" / "app.ini").write_text("[app]\n")
    assert carryover.user_files(old) == [Path("bin/postactivate"), Path("etc/app.ini")]
    plan = carryover.plan(old, new)
    assert plan.kept_new == ()  # virtualenv's deactivate.* and friends are the creator's
    assert sorted(str(d.relative_to(new)) for _, d in plan.copies) == [
        "bin/postactivate",
        "etc/app.ini",
    ]
