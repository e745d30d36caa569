"""Safe retries: a state-changing request sent again — after a timeout, a lost answer, a crash —
gets the answer of the first, and its effect happens once (``hub.idempotency.route``)."""
