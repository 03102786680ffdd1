import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { OutputPump } from './output.ts';

describe('OutputPump', () => {
  it('delivers exactly up to the limit, then reports it once and drains the rest', async () => {
    const got: string[] = [];
    const onLimit = vi.fn();
    const pump = new OutputPump({
      limit: 10,
      onOutput: (c, s) => void got.push(`${s}:${c}`),
      onLimit,
      onHandlerError: vi.fn(),
    });
    const out = new PassThrough();
    const err = new PassThrough();
    pump.attach(out, 'stdout');
    pump.attach(err, 'stderr');
    out.write('12345');
    await sleep(5);
    err.write('6789');
    await sleep(5);
    out.write('abcdef');
    out.end('more');
    err.end('still more');
    await pump.done();
    expect(got.join('|')).toBe('stdout:12345|stderr:6789|stdout:a');
    expect(pump.bytes).toBe(10);
    expect(onLimit).toHaveBeenCalledTimes(1);
  });

  it('output of exactly the limit is fine', async () => {
    const onLimit = vi.fn();
    const pump = new OutputPump({ limit: 4, onLimit, onHandlerError: vi.fn() });
    const out = new PassThrough();
    pump.attach(out, 'stdout');
    out.end('1234');
    await pump.done();
    expect(onLimit).not.toHaveBeenCalled();
    expect(pump.bytes).toBe(4);
  });

  it('does not read further while an async handler is busy (backpressure)', async () => {
    let busy = false;
    let overlapped = false;
    const seen: string[] = [];
    const pump = new OutputPump({
      limit: 1000,
      onOutput: async (c) => {
        if (busy) overlapped = true;
        busy = true;
        await sleep(10);
        seen.push(String(c));
        busy = false;
      },
      onLimit: vi.fn(),
      onHandlerError: vi.fn(),
    });
    const out = new PassThrough({ highWaterMark: 4 });
    pump.attach(out, 'stdout');
    let accepted = 0;
    for (let i = 0; i < 10; i++) if (out.write(`${i}`)) accepted++;
    out.end();
    await pump.done();
    expect(seen.join('')).toBe('0123456789');
    expect(overlapped).toBe(false);
    // The writer was told to wait: nothing piles up on our side while the handler is slow.
    expect(accepted).toBeLessThan(10);
  });

  it('reports a failing handler once and keeps draining', async () => {
    const onHandlerError = vi.fn();
    const pump = new OutputPump({
      limit: 100,
      onOutput: () => {
        throw new Error('boom');
      },
      onLimit: vi.fn(),
      onHandlerError,
    });
    const out = new PassThrough();
    pump.attach(out, 'stdout');
    out.write('a');
    await sleep(5);
    out.end('b');
    await pump.done();
    expect(onHandlerError).toHaveBeenCalledTimes(1);
    expect(pump.bytes).toBe(2);
  });
});
