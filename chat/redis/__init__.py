"""Redis pieces the Redis backends share (chat/broker/redis.py, chat/presence/redis.py)."""
