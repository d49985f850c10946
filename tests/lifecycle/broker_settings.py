"""The project's settings for an end-to-end broker, plus knobs only tests turn."""

import os

from project.settings import *  # noqa: F403

AURINKO_AUTH = {  # noqa: F405
    **AURINKO_AUTH,  # noqa: F405
    "DIRECT_RATE_LIMIT_ACCOUNT": os.environ.get("TEST_DIRECT_RATE_LIMIT_ACCOUNT", "300/m"),
}
# Keep this run's counters apart from anything else using the same Redis.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("TEST_CACHE_PREFIX", "")  # noqa: F405
