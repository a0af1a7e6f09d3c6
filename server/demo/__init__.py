"""The demo: its seed data (``./dev demo``) and the shop site that embeds the widget."""
