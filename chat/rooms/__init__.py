"""Rooms: sending with group commit, history, joining."""
