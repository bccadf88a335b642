"""Clocks that run themselves: the law's deadlines scheduled, fired as ledger events, and told.

- ``follow``: events schedule and cancel jobs and owe messages, in the transaction that appends them;
- ``scheduler``: fires due jobs (``hold.warning``, ``hold.limit_reached``, ``notice.overdue``), each
  firing committed with its event;
- ``outbox`` / ``dispatcher``: messages to agencies as Standard Webhooks (``signing``, ``sender``,
  ``addresses``, ``backoff``), letters to the person (``letters``);
- ``webhooks``: endpoints agencies register; ``views``: what ``accord clocks`` shows; ``runner``:
  the scheduler and dispatcher together, for ``accord worker`` and ``accord serve``.
"""
