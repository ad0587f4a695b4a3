"""The one exception type a user sees: a clear, one-line message and exit code 2."""


class UserError(Exception):
    """Bad input, a bad option or a dataset that cannot be read. The CLI prints it as one line."""

    exit_code = 2


class DatasetError(UserError):
    """A dataset that is missing, unfinished, of another schema or version, or malformed."""
