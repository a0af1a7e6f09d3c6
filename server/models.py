"""Every table, imported in one place so metadata and migrations see them all.

tests/db/test_schema.py migrates fresh databases and checks that alembic's
autogenerate finds nothing between these models and the migrated schema; a
table missing here would show as one to drop.
"""

from sqlmodel import SQLModel

from server.accounts.models import AgentPresence, LoginFailure, Session, User, UserChannel
from server.bots.models import BotAnswer, BotAnswerVersion, BotRun
from server.channels.models import Channel
from server.contacts.models import (
    ContactChange,
    ContactImport,
    ImportChunk,
    ImportReject,
    Visitor,
    VisitorTerm,
)
from server.conversations.models import (
    Attachment,
    AttachmentBlob,
    CannedResponse,
    Conversation,
    ConversationEvent,
    Message,
)
from server.exports import ContactExport, ExportChunk
from server.privacy import Erasure
from server.proactive.models import ProactiveDelivery, ProactiveMessage
from server.sites.models import Site
from server.tracking.models import PageView, TrackedEvent, Visit

metadata = SQLModel.metadata

__all__ = [
    "AgentPresence",
    "Attachment",
    "AttachmentBlob",
    "BotAnswer",
    "BotAnswerVersion",
    "BotRun",
    "CannedResponse",
    "Channel",
    "ContactChange",
    "ContactExport",
    "ContactImport",
    "Conversation",
    "ConversationEvent",
    "Erasure",
    "ExportChunk",
    "ImportChunk",
    "ImportReject",
    "LoginFailure",
    "Message",
    "PageView",
    "ProactiveDelivery",
    "ProactiveMessage",
    "Session",
    "Site",
    "TrackedEvent",
    "User",
    "UserChannel",
    "Visit",
    "Visitor",
    "VisitorTerm",
    "metadata",
]
