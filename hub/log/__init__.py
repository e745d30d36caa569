"""The transparency log of every state change, the event feed built on it, and webhooks."""
