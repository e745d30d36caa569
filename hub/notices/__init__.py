"""Notices to origin platforms (retirements, completed transfers), through an outbox."""
