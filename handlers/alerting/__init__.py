"""The poller's side: deployments and assays observed, alert episodes, the outbox, outages."""
