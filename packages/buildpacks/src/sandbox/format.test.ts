import { describe, expect, it } from 'vitest';
import { decodeExitStatus, formatBytes, formatDuration } from './format.ts';

describe('format', () => {
  it('formats byte counts for people', () => {
    expect(formatBytes(100)).toBe('100 B');
    expect(formatBytes(512 * 1024 * 1024)).toBe('512 MiB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GiB');
  });

  it('formats durations', () => {
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(1000)).toBe('1 s');
    expect(formatDuration(1500)).toBe('1.5 s');
  });

  it('reads 128 + n as signal n, like bwrap and shells write it', () => {
    expect(decodeExitStatus(0)).toEqual({ exitCode: 0, signal: null });
    expect(decodeExitStatus(3)).toEqual({ exitCode: 3, signal: null });
    expect(decodeExitStatus(137)).toEqual({ exitCode: 137, signal: 'SIGKILL' });
    expect(decodeExitStatus(139)).toEqual({ exitCode: 139, signal: 'SIGSEGV' });
    expect(decodeExitStatus(128)).toEqual({ exitCode: 128, signal: null });
    expect(decodeExitStatus(255)).toEqual({ exitCode: 255, signal: null });
  });
});
