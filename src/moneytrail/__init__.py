"""moneytrail: follow the money of the fentanyl trade."""

__version__ = "0.1.0"
