"""recist_app: a desktop workstation for RECIST 1.1 tumour-response reading."""

__version__ = "0.1.0"

__all__ = ["__version__"]
