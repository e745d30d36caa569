"""Platforms of the federation: the directory of members, their keys and endpoints."""
