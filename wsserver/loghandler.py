"""Feeds the standard `logging` module's records to a LogHub (where `logging` exists)."""
import logging


class LogHubHandler(logging.Handler):
    """A logging.Handler that publishes each record to the live log.

    Formatting is the viewer's job: the hub gets the record's parts, with the message
    already merged with its arguments.
    """

    def __init__(self, hub, level=logging.NOTSET):
        super().__init__(level)
        self.hub = hub

    def emit(self, record):
        try:
            self.hub.publish(record.created, record.levelname, record.name, record.getMessage())
        except Exception:
            self.handleError(record)
