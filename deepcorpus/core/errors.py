"""The exceptions a user sees as one line: `UserError` (exit 2, something to fix in the input or
the options) and `ConservationError` (exit 1, the pipeline itself lost or duplicated rows)."""


class UserError(Exception):
    """Bad input, a bad option or a dataset that cannot be read. The CLI prints it as one line."""

    exit_code = 2

    def __init__(self, message: object = "", *args):
        # One line, whatever a library's reason holds (tarfile lists each method it tried on its own line).
        text = str(message)
        if "\n" in text:
            text = " ".join(line.strip() for line in text.splitlines() if line.strip())
        super().__init__(text, *args)


class DatasetError(UserError):
    """A dataset that is missing, unfinished, of another schema or version, or malformed."""


class ConservationError(Exception):
    """A pipeline's rows do not add up (rows in != rows out + rows dropped): a bug or a fault in
    the runner, never bad input. Nothing is committed; the CLI prints the numbers and exits 1."""

    exit_code = 1
