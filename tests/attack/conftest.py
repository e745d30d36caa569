"""The two-hub fixtures of tests/federation, for the federation attacks."""

from tests.federation.conftest import gd_database, peered, two_hubs, yrd_database  # noqa: F401
