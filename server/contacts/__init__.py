"""Contacts: who a visitor is (profile, attributes, identity and merges) and how to find them."""
