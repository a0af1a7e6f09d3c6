"""The connections of this process (hub) and the bus between processes."""
