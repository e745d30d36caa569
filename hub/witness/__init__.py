"""The hub as a witness of other hubs' logs (c2sp.org/tlog-witness), the collection of cosignatures
for its own checkpoints, the monitoring of the logs it witnesses, and the alarms of split views."""
