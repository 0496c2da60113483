"""Unit tests: the pure functions (money, ledger arithmetic, worker statistics, result digests and
receipts, paging) called directly, and checks that read the sources (the error catalogue against
the protos and README, the test modules' imports). No server, no database, no network."""
