"""The one exception type for user mistakes.

A missing data folder, a bad flag or an unreadable file is not a bug in the
zoo: the command-line entry points catch `UserError`, print its message as a
single sentence and exit non-zero, without a traceback.
"""


class UserError(Exception):
    """A mistake the user can fix; its message says what was expected and what to do."""
