"""Sites: one per website that embeds the widget (its public key, allowed domains, settings)."""
