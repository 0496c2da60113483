"""gRPC servicers: translate proto to domain values, call a domain service, translate back."""
