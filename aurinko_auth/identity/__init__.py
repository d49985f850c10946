"""Host identity tokens (Outlook add-ins, Teams, Workspace add-ons, extensions): ``keys``
fetches and caches the issuers' public documents, ``tokens`` verifies a token against an app's
trust (docs/add-ins.md)."""
