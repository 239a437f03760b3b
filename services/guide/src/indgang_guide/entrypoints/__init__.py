"""How the world reaches the service besides HTTP (`web/`): its Kafka wiring."""
