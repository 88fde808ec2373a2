"""Fan-out between nodes: the Broker port, the in-process MemoryBroker and the RedisBroker."""
