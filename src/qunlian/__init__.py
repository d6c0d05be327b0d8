"""qunlian (群链): governance platform for manufacturing clusters and industrial chains."""

__version__ = "0.1.0"
