"""The exchanges service: contact requests and exchanges, from a proposed host to a completed exchange."""

__version__ = "0.1.0"
