"""The error of a prediction that cannot run."""

from sciencebeam_gym import cli


class PredictError(cli.CliError, ValueError):
    """A prediction that cannot run; the message names the input, model or flag."""
