"""Bot Connector clients that send each message once: what becomes of a message whose answer was lost is ours to decide.

botframework-connector's client sends through msrest, whose default retry policy (urllib3's
Retry: three tries, on 5xx answers too) lists POST among the methods it may repeat. Under
urllib3 2 that list is ignored and a POST is never repeated; under urllib3 1.26, which
`requests` also accepts, it is honoured, and a message whose answer was lost (the connection
dropped after sending, a 502 from a proxy) would be sent again up to three times below the
outbox. Every client the adapter makes, for a turn's replies and for the outbox's proactive
sends, has its policy narrowed instead: a connection that was never made is tried again
(nothing was sent), nothing else is.
"""

from __future__ import annotations

from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication  # type: ignore[import-untyped]
from botframework.connector.auth import ConnectorFactory  # type: ignore[import-untyped]
from urllib3.util.retry import Retry

# A connection that was never made is tried this many more times; a request that went out, never.
CONNECT_RETRIES = 2


def send_once(policy: Retry) -> Retry:
    """Narrow urllib3's retry policy (msrest's own object, kept for what msrest reads of it) to connecting only."""
    policy.total = policy.connect = CONNECT_RETRIES
    policy.read = False  # the request went out: a dropped or timed-out answer is raised, not repeated
    policy.status = policy.other = 0
    policy.status_forcelist = frozenset()  # a 5xx answer is the caller's to handle (the outbox backs off)
    return policy


class SendOnceFactory(ConnectorFactory):  # type: ignore[misc]
    """botbuilder's connector factory, whose clients carry the narrowed policy."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        client = await self._inner.create(service_url, audience)
        # msrest reads the policy when the client's HTTP session is first made, at its first send.
        send_once(client.config.retry_policy.policy)
        return client


class SendOnceAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """The adapter's authentication, unchanged, except that its connector clients send each message once."""

    async def authenticate_request(self, activity: Any, auth_header: str) -> Any:
        """A turn's replies go through the factory this returns."""
        result = await super().authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = SendOnceFactory(result.connector_factory)
        return result

    def create_connector_factory(self, claims_identity: Any) -> Any:
        """Proactive sends (the outbox's) go through this one."""
        return SendOnceFactory(super().create_connector_factory(claims_identity))
