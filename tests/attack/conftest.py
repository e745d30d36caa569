"""The two-hub fixtures of tests/federation, for the federation attacks; the demo hub of tests/hub
(Jiangsu holding its fixture's blocks), for the proposal attacks."""

from tests.federation.conftest import gd_database, peered, two_hubs, yrd_database  # noqa: F401
from tests.hub.conftest import hub  # noqa: F401
