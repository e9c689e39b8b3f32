"""What the tests share and are not tests themselves: the emulator as the tests start it, a
fake Slack, the bot served in-process, a throw-away PostgreSQL, a movable clock, recorded
answers of real Wallaroo instances, and small waiting helpers. Test modules import from here,
never from each other."""
