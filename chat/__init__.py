"""EcoLink chat: the real-time chat and forum server of the EC-Link eco-city platform."""

__version__ = "0.1.0"
