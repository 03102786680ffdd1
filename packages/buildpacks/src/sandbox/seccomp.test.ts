import { describe, expect, it } from 'vitest';
import { SECCOMP_BLOCKED, seccompFilter } from './seccomp.ts';

// Runs the classic BPF program on a seccomp_data {nr, arch}: enough of the instruction set for our filter.
function evaluate(program: Buffer, arch: number, nr: number): number {
  let acc = 0;
  for (let pc = 0; pc < program.length / 8; ) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) acc = k === 0 ? nr : k === 4 ? arch : Number.NaN;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x35) pc += acc >= k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unexpected opcode ${code}`);
    pc++;
  }
  throw new Error('fell off the end');
}

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const ALLOW = 0x7fff0000;
const errno = (e: number) => 0x00050000 | e;

describe.runIf(process.arch === 'x64')('seccompFilter', () => {
  const program = seccompFilter()!;

  it('allows ordinary system calls', () => {
    for (const nr of [0, 1, 2, 3, 9, 56, 57, 59, 61, 101, 435])
      expect(evaluate(program, X86_64, nr)).toBe(ALLOW);
  });

  it('refuses the listed ones', () => {
    expect(SECCOMP_BLOCKED).toContain('keyctl');
    expect(evaluate(program, X86_64, 250)).toBe(errno(1)); // keyctl
    expect(evaluate(program, X86_64, 321)).toBe(errno(1)); // bpf
    expect(evaluate(program, X86_64, 165)).toBe(errno(1)); // mount
    expect(evaluate(program, X86_64, 425)).toBe(errno(38)); // io_uring_setup: ENOSYS
  });

  it('refuses the 32-bit and x32 entry points', () => {
    expect(evaluate(program, I386, 3)).toBe(errno(38));
    expect(evaluate(program, X86_64, 0x40000000 + 1)).toBe(errno(38));
  });
});
