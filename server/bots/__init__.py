"""Bots: answer flows, their runtime, and handoff to agents."""
