"""The job marketplace: jobs, leases and results, heartbeats, receipts and the ledger."""
