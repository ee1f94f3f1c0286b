"""What every command needs: the config, the directories and the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from venv_doctor.config import Config
from venv_doctor.discover import stores, tracking
from venv_doctor.model.venv import Location
from venv_doctor.paths import AppDirs


@dataclass(frozen=True)
class Context:
    """Built once per command (``cli.base.get_context``) or per daemon, passed down."""

    config: Config
    dirs: AppDirs
    env: Mapping[str, str]

    def stores(self) -> list[stores.Store]:
        return stores.known_stores(self.config, self.env)

    def tracked(self) -> list[Location]:
        return tracking.load(self.dirs.tracked_file)
