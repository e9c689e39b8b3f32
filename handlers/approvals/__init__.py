"""Four-eyes changes: asking (requests), who may decide (checks), carrying out (rollout), and
telling whether a call of unknown fate took effect (reconcile)."""
