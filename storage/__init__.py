"""The bot's tables and the functions that read and write them (SQLModel on asyncio drivers).

Who commits: the caller, as in SQLModel's own examples. A function here takes the caller's
session, reads or stages its changes (`session.add`, UPDATE, DELETE) and returns; the handler,
poller, rollout or outbox sender that called it commits, so everything one event changes (an
episode, the outbox rows announcing it, the moved cursor) lands in one transaction or not at all.

The few that commit say so in their docstring, and why: the compare-and-sets whose winner acts
on its win at once (`approvals.move`, `outbox.claim`, `leases.hold_lease`), the inserts a unique
constraint decides (`roles.grant_role`, `watches.add_watch`, `watches.add_subscription`), whose
losing rollback would take the caller's other changes with it, and `audit.AuditLog.record`,
which appends in a transaction of its own so the hash chain never forks.
"""
