/** PATH for the helpers we start on the host (bwrap, slirp4netns, …): never the service's own PATH. */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Keeps the last `max` bytes pushed into it: error messages without unbounded buffering. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.max && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

/** The last non-empty line of some text, shortened for a one-line message. */
export function lastLine(text: string, max = 300): string {
  const line = text.trim().split('\n').at(-1)?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * Perl that closes every fd above `keepExpr` (a perl expression), except those listed in `exceptExpr`:
 * fds the service inherited without close-on-exec would otherwise reach the sandbox or slirp4netns.
 * POSIX is only loaded when there is something to close (it costs ~10 ms).
 */
export function closeFdsAbove(keepExpr: string, exceptExpr = '()'): string {
  return `{
  my %except = map { $_ => 1 } ${exceptExpr};
  opendir(my $d, '/proc/self/fd') or die "cannot list fds: $!\\n";
  my $self = fileno($d);
  my @extra = grep { /^\\d+$/ && $_ > ${keepExpr} && $_ != $self && !$except{$_} } readdir($d);
  closedir($d);
  if (@extra) { require POSIX; POSIX::close($_) for @extra; }
}`;
}
