"""computepool: the command-line client of a computepool coordinator."""
