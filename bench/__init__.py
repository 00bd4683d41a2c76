"""slr-bench: the harness that is the same for every sign language recognition model."""

__version__ = "0.1.0"
