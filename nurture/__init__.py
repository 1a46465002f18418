"""nurture: keeps relationships from going cold."""

__version__ = "0.1.0"
