"""Unit tests: the pure functions (money, ledger arithmetic, worker statistics, result digests and
receipts, paging) called directly. No server, no database, no network."""
