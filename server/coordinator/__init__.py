"""computepool coordinator: the gRPC server, its domain services and persistence."""
