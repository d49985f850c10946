"""Microsoft's hosted Exchange (Exchange Online, Outlook.com): what the password providers
(EWS, IMAP) must know about it."""

from __future__ import annotations

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import InvalidRequest

# Microsoft turned password (Basic) authentication off for Exchange Online's EWS and IMAP
# in 2022, for good: such mailboxes sign in with Office 365 (OAuth) instead.
EXCHANGE_ONLINE_HOSTS = (
    "outlook.office365.com",
    "outlook.office.com",
    "outlook.live.com",
    "imap-mail.outlook.com",
)


def refuse_exchange_online(host: str) -> None:
    """A clear answer before any connection, instead of a puzzling wrong-password error."""
    host = (host or "").lower().rstrip(".")
    if any(host == h or host.endswith("." + h) for h in EXCHANGE_ONLINE_HOSTS):
        raise InvalidRequest(
            "Exchange Online and Outlook.com no longer accept passwords: connect this "
            "mailbox with Office 365 instead.",
            code=Code.SERVER_EXCHANGE_ONLINE,
        )
