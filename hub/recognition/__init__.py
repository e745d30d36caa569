"""Cross-region recognition: requests, checks and ruleset evaluation, operator decisions with
four eyes above a quantity, certificates signed by the hub."""
