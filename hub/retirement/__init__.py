"""Retirement: credits used up for a purpose — final; the origin is told."""
