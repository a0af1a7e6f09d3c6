"""Proactive messages: rules the server evaluates for each visitor, and what they send."""
