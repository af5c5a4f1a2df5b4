"""Every write of circulation: readers, loans, returns and their routing, renewals, holds.

Each service is `<entity>_<verb>(*, ...)`, runs in one transaction, locks the rows it changes
(the item first, in id order when there are several), re-checks after locking, and records the
item history in the same transaction. Refusals are `collections_app.errors.Refused` with a
message for the desk, in plain words.
"""
