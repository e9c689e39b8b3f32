"""How the bot process meets the world: HTTP and Socket Mode (Slack), the bolt app, the console."""
