"""The one error of storage that a user can fix: a bad path, a missing bucket, no credentials."""

from __future__ import annotations

from sciencebeam_gym import cli


class StorageError(cli.CliError):
    """A problem the user can fix (bad path, missing bucket, no credentials); no traceback."""
