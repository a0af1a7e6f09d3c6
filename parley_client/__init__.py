"""The reference client for Parley's visitor protocol v1 (and the agent socket).

It is the model for mobile SDKs: everything a compliant client must do is
here in a few hundred lines — hello with resume cursors, client ids and an
outbox so a message is sent once however often the connection drops,
per-conversation cursors that drop repeats, refetching history on
``resync_required``, heartbeats, and reconnecting with backoff and jitter.
See docs/sdk.md.
"""

from parley_client.client import AgentClient, ClientError, ProtocolClient, VisitorClient
from parley_client.socket import Closed, Socket

__all__ = ["AgentClient", "ClientError", "Closed", "ProtocolClient", "Socket", "VisitorClient"]
