from __future__ import annotations

from pathlib import Path

import pytest

from venv_doctor import config
from venv_doctor.errors import ConfigError

FILE = Path("/cfg/config.toml")


def load(text: str) -> config.Config:
    import tomllib

    return config.from_mapping(tomllib.loads(text), FILE, Path("/home/me"))


def test_defaults_and_a_full_file() -> None:
    assert config.Config().repair_auto == "relink"
    c = load(
        '[stores]\nextra = ["~/envs", "rel"]\n[repair]\nauto = "off"\nkeep_backups_days = 3\n'
        '[watch]\ndebounce_seconds = 0.5\n[notify]\nbackends = ["command"]\ncommand = ["/bin/x"]\n'
    )
    assert c.extra_stores[1] == Path("/home/me/rel")
    assert (c.repair_auto, c.keep_backups_days, c.debounce_seconds) == ("off", 3, 0.5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[repair]\nauto = "sometimes"\n', 'repair.auto = "sometimes": expected one of'),
        (
            "[scan]\ninterval_hours = 1e308\n",
            "scan.interval_hours = 1e+308: expected a number of hours",
        ),
        ("[watch]\ndebounce_seconds = inf\n", "watch.debounce_seconds = inf"),
        (
            "[watch]\ndebounce_seconds = 100\nmax_wait_seconds = 5\n",
            "is more than watch.max_wait_seconds",
        ),
        ('[notify]\nbackends = ["command"]\ncommand = []\n', "notify.command is missing or empty"),
        (
            "[snapshot]\nkeep_credentials = 1\n",
            "snapshot.keep_credentials = 1: expected true or false",
        ),
        ("[stores]\nextra = true\n", "stores.extra = true"),
        ("[nope]\n", "unknown section [nope]"),
        ("[repair]\nautos = 1\n", "unknown key repair.autos"),
    ],
)
def test_bad_values_name_the_file_the_key_and_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(text)
    assert str(FILE) in info.value.message
    assert message in info.value.message
