"""Region adapters: each platform's local format <-> the exchange schema, plus its API client.

Adapters are found through the ``puhui.adapters`` entry-point group, so a new region is a new
package, not a hub change. The five reference adapters (SH, JS, ZJ, AH, CCER) land with the
adapters issue.
"""
