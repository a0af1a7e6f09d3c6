"""Channels: where conversations come from and proactive messages go (web widget, SDK apps)."""
