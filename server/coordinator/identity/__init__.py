"""Who is calling: callers and ownership, API keys and sessions, wallet users and ton_proof."""
