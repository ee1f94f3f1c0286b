"""The one user-facing exception family and the documented exit codes."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    PROBLEMS = 1  # a venv is broken or unknown, or a repair failed
    USAGE = 2  # bad arguments or configuration
    INTERNAL = 70  # a bug in venv-doctor (EX_SOFTWARE); details in the debug log
    INTERRUPTED = 130


class VenvDoctorError(Exception):
    """An error the user can act on: a message naming the fact and a hint."""

    exit_code: ExitCode = ExitCode.PROBLEMS

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(VenvDoctorError):
    """The configuration file or an environment variable is invalid."""

    exit_code = ExitCode.USAGE


class UsageError(VenvDoctorError):
    """The command line asks for something that cannot be done."""

    exit_code = ExitCode.USAGE


class TargetNotFoundError(VenvDoctorError):
    """A TARGET names no known venv."""

    exit_code = ExitCode.PROBLEMS
