"""indgang reporting: a read model of the events, and the report pages on it."""
