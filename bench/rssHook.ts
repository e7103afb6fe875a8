// Preloaded into a measured process (node --import): on exit, write its peak RSS (kB) to a file.
import { writeFileSync } from 'node:fs';

const target = process.env.AKM_BENCH_RSS_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS)));
