"""logictune: make small LLMs good at multiple-choice logic reasoning."""

__version__ = "0.1.0"
