"""The exchange: AITBC credits bought with Bitcoin."""
