"""Recognition across peered hubs: the origin's hub forwards a recognition to the hub serving its
destination, which checks it by its own rules, has it decided by its operators, signs the
certificate and calls back; the origin's hub countersigns it. Messages go through an outbox."""
