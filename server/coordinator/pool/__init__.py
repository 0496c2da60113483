"""The pool: participants, their workers, payouts and worker statistics."""
