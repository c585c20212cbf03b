"""One error family with a user-facing message and an exit code."""

from __future__ import annotations

from pathlib import Path


class ArchpickError(Exception):
    """An error the user can fix: one line that names the file and says what to do.

    Args:
        message: What went wrong and what to do, in one line.
        path: The file, folder or column at fault, named in the message.
        exit_code: Process exit code for the CLI (2 for bad input).
    """

    exit_code = 2

    def __init__(self, message: str, path: str | Path | None = None, exit_code: int | None = None):
        self.path = str(path) if path is not None else None
        if exit_code is not None:
            self.exit_code = exit_code
        self.reason = " ".join(message.split())
        text = f"{self.path}: {message}" if self.path else message
        super().__init__(" ".join(text.split()))

    @property
    def message(self) -> str:
        """The one-line message shown to the user."""
        return str(self)


class DataError(ArchpickError):
    """The data cannot be used as given (missing, empty, unreadable, malformed)."""


class OptionError(ArchpickError):
    """A command-line or API option is invalid."""


class RunError(ArchpickError):
    """A run directory is missing, incomplete or cannot be written."""


class DependencyError(ArchpickError):
    """An optional dependency or backend needed for this step is absent."""
