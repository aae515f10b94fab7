// Preloaded into the measured operator (`--expose-gc --import bench/lib/gc-on-signal.ts`): a full
// garbage collection on SIGUSR2, so idle memory is read after garbage is gone, not before. With
// BENCH_MEMORY_FILE set, `process.memoryUsage()` after the collection is written there.
import { writeFileSync } from 'node:fs';

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('start node with --expose-gc to use bench/lib/gc-on-signal.ts');
const memoryFile = process.env['BENCH_MEMORY_FILE'];
process.on('SIGUSR2', () => {
  collect();
  if (memoryFile) writeFileSync(memoryFile, JSON.stringify(process.memoryUsage()));
});
