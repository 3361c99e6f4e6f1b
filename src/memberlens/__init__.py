"""memberlens: an open-source member personalisation platform."""

__version__ = "0.1.0"
