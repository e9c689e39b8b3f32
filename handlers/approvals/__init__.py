"""Four-eyes changes: asking and deciding (requests), who may decide (checks), carrying out
(rollout), following a change to its end (following), and telling whether a call of unknown
fate took effect (reconcile)."""
