"""Greetings, as a local package."""

__version__ = "1.0.0"


def hello(name: str) -> str:
    return f"Hello, {name}, from a local package!"
