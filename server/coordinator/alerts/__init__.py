"""Alerts: participants' rules and channels (preferences), the incidents the rules open and
close (incidents), and the notifications that tell of them (outbox, sent through
adapters/notifiers)."""
