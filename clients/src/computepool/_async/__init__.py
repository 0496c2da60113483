"""The asyncio client, the one written by hand; computepool._sync is generated from it (unasync)."""
