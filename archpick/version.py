"""archpick's version (its own module, so that modules need not import the package's __init__ for it)."""

__version__ = "0.1.0"
