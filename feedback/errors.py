"""Domain errors: service functions raise these; views and commands turn them into messages."""


class DomainError(Exception):
    """A request the domain refuses, with a message fit to show the person who asked."""


class NotFound(DomainError):
    """The thing asked for does not exist."""


class Conflict(DomainError):
    """The thing exists but its state refuses the request (e.g. a batch already committed)."""
