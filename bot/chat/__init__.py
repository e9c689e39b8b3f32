"""The two `Chat`s (handlers/chat.py): Slack's Web API, and the console's terminal."""
