"""The flows as plain functions: no HTTP objects in, no responses out. They raise
:mod:`aurinko_auth.exceptions` errors; views turn those into pages, redirects or JSON."""
