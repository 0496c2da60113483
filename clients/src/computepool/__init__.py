"""computepool: the client side of a computepool coordinator.

computepool.v1 holds the stubs generated from proto/computepool/v1 (never edited by hand);
computepool.encoding holds the encodings a client and the coordinator must agree on.
"""
