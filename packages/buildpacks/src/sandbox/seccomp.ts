// A small seccomp filter (classic BPF, handed to bwrap with --seccomp) that refuses the system calls a
// build never needs but kernel exploits love: keyrings, bpf, userfaultfd, perf, io_uring, and everything
// about mounting, namespaces, modules, clocks and rebooting. Most of those already fail for want of
// capabilities; refusing them before the kernel looks at their arguments shrinks the attack surface.
// Everything else is allowed (an allow-list breaks arbitrary build tools). x86_64 only: elsewhere no
// filter is installed, and on x86_64 the 32-bit and x32 entry points are refused entirely, since their
// syscall numbers differ and would slip past the list.
import { arch } from 'node:process';

const EPERM = 1;
const ENOSYS = 38;

/** x86_64 syscall numbers → errno returned instead of running them. */
const BLOCKED: Record<string, [number, number]> = {
  // kernel keyrings are not namespaced
  add_key: [248, EPERM],
  request_key: [249, EPERM],
  keyctl: [250, EPERM],
  bpf: [321, EPERM],
  userfaultfd: [323, EPERM],
  perf_event_open: [298, EPERM],
  // ENOSYS: libuv and friends then quietly use their thread-pool fallback
  io_uring_setup: [425, ENOSYS],
  io_uring_enter: [426, ENOSYS],
  io_uring_register: [427, ENOSYS],
  mount: [165, EPERM],
  umount2: [166, EPERM],
  pivot_root: [155, EPERM],
  unshare: [272, EPERM],
  setns: [308, EPERM],
  open_tree: [428, EPERM],
  move_mount: [429, EPERM],
  fsopen: [430, EPERM],
  fsconfig: [431, EPERM],
  fsmount: [432, EPERM],
  fspick: [433, EPERM],
  mount_setattr: [442, EPERM],
  open_by_handle_at: [304, EPERM],
  init_module: [175, EPERM],
  finit_module: [313, EPERM],
  delete_module: [176, EPERM],
  kexec_load: [246, EPERM],
  kexec_file_load: [320, EPERM],
  reboot: [169, EPERM],
  swapon: [167, EPERM],
  swapoff: [168, EPERM],
  acct: [163, EPERM],
  settimeofday: [164, EPERM],
  clock_settime: [227, EPERM],
  clock_adjtime: [305, EPERM],
  adjtimex: [159, EPERM],
  iopl: [172, EPERM],
  ioperm: [173, EPERM],
  quotactl: [179, EPERM],
  lookup_dcookie: [212, EPERM],
  uselib: [134, EPERM],
  _sysctl: [156, EPERM],
  vhangup: [153, EPERM],
};

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The compiled filter (struct sock_filter[] in host byte order), or null where there is none. */
export function seccompFilter(): Buffer | null {
  if (arch !== 'x64') return null;
  const entries = Object.values(BLOCKED);
  const deny = (errno: number): Insn => ({ code: BPF_RET_K, jt: 0, jf: 0, k: RET_ERRNO | errno });
  // Layout: arch check, load nr, x32 check, one compare per blocked call (each jumps to its own return
  // that follows the allow), allow, the returns.
  const program: Insn[] = [];
  const n = entries.length;
  program.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: OFFSET_ARCH });
  // jf: skip to the final "foreign arch" return at the very end
  program.push({ code: BPF_JEQ_K, jt: 0, jf: 0, k: AUDIT_ARCH_X86_64 });
  program.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: OFFSET_NR });
  program.push({ code: BPF_JGE_K, jt: 0, jf: 0, k: X32_SYSCALL_BIT });
  const firstCompare = program.length;
  entries.forEach(([nr]) => {
    program.push({ code: BPF_JEQ_K, jt: 0, jf: 0, k: nr });
  });
  program.push({ code: BPF_RET_K, jt: 0, jf: 0, k: RET_ALLOW });
  const firstReturn = program.length;
  for (const [, errno] of entries) program.push(deny(errno));
  const foreignAt = program.length;
  program.push(deny(ENOSYS));
  // Jumps are relative to the next instruction and at most 255 long.
  const rel = (from: number, to: number) => {
    const offset = to - from - 1;
    if (offset < 0 || offset > 255) throw new Error('seccomp program too long');
    return offset;
  };
  program[1]!.jf = rel(1, foreignAt);
  program[3]!.jt = rel(3, foreignAt);
  for (let i = 0; i < n; i++) program[firstCompare + i]!.jt = rel(firstCompare + i, firstReturn + i);
  const buf = Buffer.alloc(program.length * 8);
  program.forEach((insn, i) => {
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(insn.jt, i * 8 + 2);
    buf.writeUInt8(insn.jf, i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buf;
}

/** Names of the refused calls, for documentation and tests. */
export const SECCOMP_BLOCKED = Object.keys(BLOCKED);
