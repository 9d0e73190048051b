"""Errors that reach the user of `dbt build`: each names the file, column or row at fault."""


class FeedlabInputError(ValueError):
    """Raised for bad input data or configuration; the message is meant to be read as-is by a person."""
