"""What a use case refuses, as a code (for translation) and a sentence (for everyone else)."""

from __future__ import annotations


class Rejected(ValueError):
    """The request cannot be done as asked; `code` names why, `message` says it in English."""

    def __init__(self, code: str, message: str, **details: object):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
