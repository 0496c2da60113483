// The load of bench/harness.py's heartbeat fan-in: `count` miner streams to one server, each
// sending a heartbeat every second on its own timer (open loop, as a miner does: it does not wait
// for the previous ack), each ack timed against the heartbeat it answers.
//
//   node bench/fanin_client.js PORT FIRST COUNT SECONDS
//
// Each stream opens with one heartbeat; when every stream has had its ack the client prints
// {"ready": seconds} and waits for a line on stdin: then the streams beat at 1 Hz and the
// measured window of SECONDS starts (the open-and-authenticate storm is not in it).
// Heartbeats sent in the window count; their acks are awaited up to GRACE_S after it. Finally
// one JSON line: acks, latencies (s), unacked, failed streams.
//
// Written for Node (grpc-js) rather than Python so that the load generator, which shares the
// machine's two cores with the server, costs a fraction of what a grpc.aio client would.

"use strict";
const crypto = require("crypto");
const path = require("path");
const readline = require("readline");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const API_KEY = process.env.BENCH_API_KEY;
const STREAMS_PER_CHANNEL = 500;
const GRACE_S = 10;

const [port, first, count, seconds] = process.argv.slice(2).map(Number);
const definition = protoLoader.loadSync("computepool/v1/miner_service.proto", {
  keepCase: true, longs: String, defaults: false, includeDirs: [path.join(__dirname, "..", "proto")],
});
const MinerService = grpc.loadPackageDefinition(definition).computepool.v1.MinerService;

function identity(n) { // bench/harness.py's fan_in_identity: md5("fan<n>") as a UUID, token "fan-token-<n>"
  const hex = crypto.createHash("md5").update(`fan${n}`).digest("hex");
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return [id, `fan-token-${n}`];
}

const clients = [];
for (let i = 0; i < Math.max(1, Math.ceil(count / STREAMS_PER_CHANNEL)); i++) {
  // A channel of its own per client object (grpc-js would otherwise share one connection).
  clients.push(new MinerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(),
    {"grpc.use_local_subchannel_pool": 1, "grpc.max_receive_message_length": 1 << 20}));
}

const latencies = [];
let measureFrom = Infinity, measureUntil = Infinity, ready = 0, failed = 0, firstFailure = "", unacked = 0;
const streams = [];

function openStream(n, index) {
  const [minerId, token] = identity(n);
  const metadata = new grpc.Metadata();
  metadata.set("x-api-key", API_KEY);
  metadata.set("x-miner-token", token);
  const call = clients[index % clients.length].StreamHeartbeats(metadata);
  const sent = []; // send times of heartbeats not yet acked, oldest first
  let acked = 0, alive = true;
  const request = {miner_id: minerId, heartbeat: {status: "healthy", gpu_utilization: 50}};
  call.on("data", (response) => {
    if (!response.ack) return;
    const at = sent.shift();
    if (++acked === 1) ready++;
    if (at >= measureFrom && at < measureUntil) latencies.push((performance.now() - at) / 1000);
  });
  call.on("error", (error) => {
    alive = false;
    failed++;
    if (!firstFailure) firstFailure = `${error.code} ${error.details}`;
  });
  call.on("end", () => { alive = false; });
  const beat = () => {
    if (!alive) return;
    const now = performance.now();
    if (now >= measureUntil) { call.end(); return; }
    sent.push(now);
    call.write(request);
  };
  const stream = {sent: () => sent, timer: null,
    start: () => setTimeout(() => { beat(); stream.timer = setInterval(beat, 1000); }, index % 1000)};
  setTimeout(beat, index % 1000); // the first heartbeat opens the stream; the rest wait for the window
  streams.push(stream);
}

const started = performance.now();
for (let i = 0; i < count; i++) openStream(first + i, i);

let checks = 0;
const waitReady = setInterval(() => {
  if (ready + failed < count) {
    if (++checks % 100 === 0) process.stderr.write(`fanin_client ${first}: ${ready} streams acked, ${failed} failed\n`);
    return;
  }
  clearInterval(waitReady);
  process.stdout.write(JSON.stringify({ready: (performance.now() - started) / 1000}) + "\n");
  readline.createInterface({input: process.stdin}).once("line", () => {
    measureFrom = performance.now();
    measureUntil = measureFrom + seconds * 1000;
    for (const stream of streams) stream.start(); // each on its own millisecond of the second
    setTimeout(finish, (seconds + GRACE_S) * 1000);
  });
}, 100);

function finish() {
  for (const stream of streams) {
    clearInterval(stream.timer);
    unacked += stream.sent().filter((at) => at >= measureFrom && at < measureUntil).length;
  }
  process.stdout.write(JSON.stringify({acks: latencies.length, latencies, unacked, failed_streams: failed,
    first_failure: firstFailure}) + "\n", () => process.exit(0));
}
