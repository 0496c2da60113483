"""Outside systems, spoken to in their own protocols: a Bitcoin Core node, cocoon workers' statistics."""
