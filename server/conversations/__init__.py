"""Conversations: messages, sequenced events, read state and status."""
