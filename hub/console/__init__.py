"""The operators' console: server-rendered pages under /console (sign-in, review queue, decisions)."""
