"""Block Kit and text: every message, reply, view and chart the bot shows, and nothing else."""
