"""Region adapters: each platform's local format <-> the exchange schema, plus its API client.

Adapters are found through the ``puhui.adapters`` entry-point group (:mod:`adapters.registry`), so
a new region is a new package, not a hub change. The contract is :mod:`adapters.contract`; the five
reference adapters are SH (JSON, Chinese field names), JS (GBK CSV), ZJ (NDJSON daily points), AH
(XML) and CCER (the registry's published fields). :mod:`adapters.privacy` pseudonymizes, and
:mod:`adapters.units` converts amounts exactly; :mod:`adapters.sandbox` stands in for the
platforms' APIs. See docs/adapters.md.
"""
