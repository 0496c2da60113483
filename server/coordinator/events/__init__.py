"""Live events: produced where a change commits, delivered to every replica's subscribers."""
