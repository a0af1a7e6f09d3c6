"""Every table, imported in one place so metadata and migrations see them all."""

from sqlmodel import SQLModel

from server.accounts.models import User
from server.bots.models import BotAnswerVersion, BotRun
from server.conversations.models import Conversation, ConversationEvent, Message
from server.sites.models import Site
from server.tracking.models import Visit, Visitor

metadata = SQLModel.metadata

__all__ = [
    "BotAnswerVersion",
    "BotRun",
    "Conversation",
    "ConversationEvent",
    "Message",
    "Site",
    "User",
    "Visit",
    "Visitor",
    "metadata",
]
