"""Presence: who is online in each room across all nodes (port, backends, this node's tracker)."""
