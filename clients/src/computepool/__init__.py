"""computepool: the client side of a computepool coordinator.

    from computepool import Client
    with Client.connect("localhost:50051", api_key="...") as client:
        job = client.jobs.submit("echo", {"text": "hi"})
        print(job.result(timeout=60))

Client (blocking) and AsyncClient (asyncio) offer every rpc as a method, grouped by resource
(client.jobs, .workers, .participants, .payouts, .receipts, .api_keys, .exchange, .users,
.miners); refusals raise the exceptions of computepool.errors. verify_receipt checks a receipt
offline with only the coordinator's public key. computepool.v1 holds the stubs generated from
proto/computepool/v1 (never edited by hand); computepool.encoding the result hash client and
coordinator share.
"""

from computepool._async.client import AsyncClient, AsyncJobHandle
from computepool._retry import NO_RETRIES, RetryPolicy
from computepool._sync.client import Client, JobHandle
from computepool.errors import ComputepoolError
from computepool.jobs import JobFailed, JobSpec
from computepool.receipts import NotAReceipt, Verification, verify_receipt

__all__ = ["AsyncClient", "AsyncJobHandle", "Client", "ComputepoolError", "JobFailed", "JobHandle", "JobSpec",
           "NO_RETRIES", "NotAReceipt", "RetryPolicy", "Verification", "verify_receipt"]
