"""The poller's side of the bot: watching deployments and assays, alert episodes, the outbox."""
