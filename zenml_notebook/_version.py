"""The version, in a module of its own: the package's __init__ is a facade over the upper layers,
so a low module asking for the version must not import it."""

__version__ = "0.3.0"
