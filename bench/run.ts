/**
 * `npm run bench`: every benchmark, each against its baseline measured in the same run.
 * Exits 1 when a target is missed, so a regression is visible.
 */
import { benchCli } from './cli.js';
import { benchLatency } from './latency.js';
import { benchReplicas } from './replicas.js';
import { printBenchRows } from './report.js';
import { benchVerify } from './verify.js';

const cli = await benchCli();
printBenchRows('CLI start-up and listing (medians of repeated runs)', cli.rows);
const verify = await benchVerify();
printBenchRows('/v1/verify throughput and latency (autocannon, 10 connections, loopback)', verify.throughput);
printBenchRows('/v1/verify timing of "not valid" answers (one connection, interleaved)', verify.timing);
const replicas = await benchReplicas();
printBenchRows('/v1/verify per store engine, and over two replicas (autocannon, 10 connections, loopback)', replicas);
const latency = await benchLatency();
printBenchRows('create and rotate through the service, per store engine (one at a time)', latency);
if (![...cli.rows, ...verify.throughput, ...verify.timing, ...replicas, ...latency].every((r) => r.ok))
  process.exitCode = 1;
