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


def test_the_app_installs_request_log_redaction_itself():
    """AppConfig.ready adds the filter whatever the host's LOGGING (issue 18 item 6)."""
    from aurinko_auth.security import redaction

    for name in redaction.REQUEST_LOGGERS:
        assert any(isinstance(f, RedactQueryStrings) for f in logging.getLogger(name).filters)


def test_django_server_record_redacted_through_django_default_logging(capsys):
    """Django's default LOGGING (DEFAULT_LOGGING) configured afresh, then our install: a
    runserver request line with a state and a code comes out redacted."""
    import logging.config

    from django.utils.log import DEFAULT_LOGGING

    from aurinko_auth.security import redaction

    server = logging.getLogger("django.server")
    saved = (server.handlers[:], server.filters[:], server.propagate, server.level)
    try:
        logging.config.dictConfig(DEFAULT_LOGGING)
        server.filters.clear()
        redaction.install()
        server.info('"%s" %s %s', "POST /v1/auth/token/acd_abcdefghijkl HTTP/1.1", "401", "10")
        server.info('"%s" %s %s', "GET /v1/auth/callback?state=ast_abcdefghijk HTTP/1.1", 302, 0)
        err = capsys.readouterr().err
        assert "acd_[redacted]" in err and "callback?[redacted]" in err, err
        assert "acd_abcdefghijkl" not in err and "ast_abcdefghijk" not in err
    finally:
        server.handlers[:], server.filters[:] = saved[0], saved[1]
        server.propagate, server.level = saved[2], saved[3]


def test_gunicorn_logger_redacts_every_atom():
    import datetime
    from types import SimpleNamespace

    from gunicorn.config import Config

    from aurinko_auth.gunicorn_logging import RedactingLogger

    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/v1/auth/token/acd_secretcode123?x=ast_state12345",
        "PATH_INFO": "/v1/auth/token/acd_secretcode123",
        "QUERY_STRING": "x=ast_state12345",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": "Basic Y2xpZW50OmFjc19zZWNyZXQ=",
    }
    req = SimpleNamespace(headers=[("AUTHORIZATION", "Basic Y2xpZW50OmFjc19zZWNyZXQ=")])
    resp = SimpleNamespace(status="401 Unauthorized", headers=[], sent=10)
    atoms = logger.atoms(resp, req, environ, datetime.timedelta(seconds=0))
    text = repr(atoms)
    assert "acd_secretcode123" not in text and "ast_state12345" not in text
    assert "Y2xpZW50OmFjc19zZWNyZXQ=" not in text
    assert atoms["U"] == "/v1/auth/token/acd_[redacted]"
    assert atoms["q"] == "[redacted]"
    assert atoms["r"] == "POST /v1/auth/token/acd_[redacted]?[redacted] HTTP/1.1"
