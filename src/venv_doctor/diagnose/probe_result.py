"""What a probe of a venv's interpreter found: plain data, so that diagnosing (and the
static check, which never starts a process) need not load the module that runs probes."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class ProbeResult:
    started: bool
    returncode: int | None = None
    version: str | None = None
    prefix: str | None = None
    site_paths: tuple[str, ...] = ()
    error_line: str = ""
    expected_site: tuple[str, ...] = ()

    @property
    def minor(self) -> str | None:
        return ".".join(self.version.split(".")[:2]) if self.version else None

    @property
    def site_packages_missing(self) -> bool:
        if not self.expected_site:
            return False
        seen = {os.path.realpath(p) for p in self.site_paths}
        return not any(os.path.realpath(p) in seen for p in self.expected_site)

    def describe_exit(self) -> str:
        if self.returncode is None:
            return "no exit code (it could not be started)"
        if self.returncode < 0:
            return f"signal {-self.returncode}"
        return f"code {self.returncode}"
