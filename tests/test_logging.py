import logging

from aurinko_auth.security.redaction import RedactQueryStrings, redact_query_strings


def test_redacts_query_in_request_line():
    line = '"GET /v1/auth/callback?code=4/abc&state=ast_x HTTP/1.1" 302 0'
    assert redact_query_strings(line) == '"GET /v1/auth/callback?[redacted] HTTP/1.1" 302 0'


def test_filter_rewrites_args_and_message():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /v1/auth/token/acd_secret?x=1 HTTP/1.1", "200", "10"),
        None,
    )
    assert RedactQueryStrings().filter(record)
    assert "x=1" not in record.getMessage()
    assert "acd_secret" not in record.getMessage()
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "redirect to https://app.example.com/cb?code=acd_1",
        None,
        None,
    )
    RedactQueryStrings().filter(record)
    assert "acd_1" not in record.getMessage()


def test_oauth_libraries_never_log_tokens_at_debug():
    # They log token requests and responses at DEBUG; the project pins them at WARNING.
    for name in ("requests_oauthlib", "oauthlib"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO), name
