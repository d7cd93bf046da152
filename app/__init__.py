"""conflictdb: a conflict-event database with a REST API."""

__version__ = "0.1.0"
