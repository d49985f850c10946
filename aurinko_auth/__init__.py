"""aurinko_auth: a self-hosted unified OAuth broker for Django."""

__version__ = "0.1.0.dev0"
