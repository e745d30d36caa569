"""The demo federation: its data (``federation.json``), the history ``make run`` seeds
(``story``) and the traffic simulator (``traffic``), each acting through the hub's public API."""
