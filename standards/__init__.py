"""Methodology catalogue, committee roots of trust and threshold-signed mapping rulesets.

Pure domain code: no web, no database. The exchange documents it works on (``methodology``,
``ruleset``, ``committee-root``) are defined in ``schemas``; the catalogue, trust model and rule
evaluation land with the standards issue.
"""
