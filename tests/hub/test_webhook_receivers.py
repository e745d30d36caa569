"""A platform's webhooks go to public addresses only (hub.receivers), unless the deployment allows
others: a URL at loopback, private, link-local or other non-public addresses is refused when set
(422, 1002 at /url, the webhook unchanged) and not called when due (a URL stored before, or a name
that now resolves inside the network): the delivery fails with why, nothing sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hub.client import Refused
from hub.keystore import KeyStore
from hub.log.webhooks import WebhookWorker
from hub.receivers import not_public
from hub.settings import Settings
from tests.conftest import hub_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The suite's settings as a deployment has them: private receivers refused."""
    return hub_settings(tmp_path / "data").model_copy(update={"webhook_private_addresses": False})


@dataclass(frozen=True)
class Receiver:
    name: str
    url: str
    public: bool


RECEIVERS = [
    Receiver("loopback", "http://127.0.0.1:9000/hooks", public=False),
    Receiver("loopback, another form", "http://127.1/hooks", public=False),
    Receiver("IPv6 loopback", "http://[::1]/hooks", public=False),
    Receiver("IPv4 mapped into IPv6", "http://[::ffff:10.0.0.5]/hooks", public=False),
    Receiver("a cloud's metadata service", "http://169.254.169.254/latest/meta-data/", public=False),
    Receiver("a private network", "https://10.1.2.3/hooks", public=False),
    Receiver("another private network", "https://192.168.0.10/hooks", public=False),
    Receiver("shared address space", "https://100.64.0.1/hooks", public=False),
    Receiver("unspecified", "http://0.0.0.0/hooks", public=False),
    Receiver("a name on this machine", "http://localhost:8000/hooks", public=False),
    Receiver("a name that does not resolve", "https://nowhere.invalid/hooks", public=False),
    Receiver("a public address", "https://8.8.8.8/hooks", public=True),
]


@pytest.mark.parametrize("receiver", RECEIVERS, ids=lambda r: r.name)
def test_a_webhook_is_set_only_at_a_public_address(as_client, receiver: Receiver) -> None:
    jiangsu = as_client("js")
    jiangsu.put("/v1/platforms/JS/webhook", {"url": "https://8.8.4.4/before"})
    if receiver.public:
        assert jiangsu.put("/v1/platforms/JS/webhook", {"url": receiver.url})["webhook_url"] == receiver.url
        return
    with pytest.raises(Refused) as refused:
        jiangsu.put("/v1/platforms/JS/webhook", {"url": receiver.url})
    assert refused.value.status == 422 and refused.value.code == "1002"
    assert [e["pointer"] for e in refused.value.errors] == ["/url"]
    assert jiangsu.get("/v1/platforms/JS")["webhook_url"] == "https://8.8.4.4/before"


class Recording(httpx.BaseTransport):
    def __init__(self) -> None:
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(str(request.url))
        return httpx.Response(200)


def test_a_receiver_whose_name_now_resolves_inside_is_not_called(as_client, database, settings) -> None:
    """A delivery due to a name (its row's URL) that now resolves to a private address (the
    resolver is the worker's seam): it fails with why and nothing is sent; once the name is public
    again, the event goes, once."""
    addresses = {"hooks.js.example": ["10.0.0.7"]}
    jiangsu = as_client("js")
    jiangsu.put("/v1/platforms/JS/webhook", {"url": "https://8.8.8.8/hooks"})  # its event is due
    with database.unit_of_work() as session:  # the due delivery names a host, as a stored URL may
        session.execute(text("UPDATE webhook_delivery SET url = 'https://hooks.js.example/hooks'"))
    transport = Recording()
    worker = WebhookWorker(database, KeyStore(settings.resolved_keys_dir), settings, transport=transport)
    worker.resolver = lambda host: addresses[host]
    now = datetime.now(UTC)
    worker.run_once(now)
    assert transport.sent == []
    (delivery,) = jiangsu.get("/v1/webhooks/deliveries")
    assert "hooks.js.example is at 10.0.0.7, not a public address" in delivery["last_error"]
    addresses["hooks.js.example"] = ["8.8.8.8"]
    assert worker.run_once(now + timedelta(hours=2)) == 1
    assert transport.sent == ["https://hooks.js.example/hooks"]
    worker.close()


@pytest.mark.parametrize("receiver", RECEIVERS, ids=lambda r: r.name)
def test_not_public_answers_without_asking_dns_for_an_address(receiver: Receiver) -> None:
    def no_dns(host: str) -> list[str]:
        if host == "localhost":
            return ["127.0.0.1", "::1"]
        raise OSError("no such name")

    assert (not_public(receiver.url, no_dns) is None) is receiver.public
