"""Errors that services raise and views/APIs turn into clear 4xx answers."""


class ValidationError(Exception):
    """Bad input: ``errors`` maps a field name to a French message."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = dict(errors)


class TooLarge(ValidationError):
    """An upload over a size limit (decompressed size, cells, plan entries): answered with 413."""


class Forbidden(Exception):
    """The user may not do this (e.g. edit a validated shift): answered with 403."""


class Conflict(Exception):
    """The state changed under the user (e.g. shift already closed): answered with 409."""
