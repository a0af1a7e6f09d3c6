"""Tracking: visitors, their visits and what they report."""
