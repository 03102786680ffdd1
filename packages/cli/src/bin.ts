#!/usr/bin/env node
import { createInterface } from 'node:readline/promises';
import { main } from './main.ts';

const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY);
const code = await main(process.argv.slice(2), {
  streams: { stdout: process.stdout, stderr: process.stderr },
  env: process.env,
  ...(interactive
    ? {
        ask: async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        },
      }
    : {}),
});
process.exitCode = code;
