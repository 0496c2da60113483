"""computepool-miner: the program a GPU owner runs to put a worker into a computepool.

It registers the worker once (keeping its credential and an Ed25519 key in a state directory),
checks that it can work (`doctor`), then holds one heartbeat stream to the coordinator, takes
leased jobs, runs each with the executor its job type is configured with, and returns signed
results. Built on the SDK (computepool.AsyncClient); see README "Running a miner".
"""
